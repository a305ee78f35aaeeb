"""Replay across policy versions: a decision made under version 1 replays identically now that version 2 is in force."""

import hashlib

from contracts.jsonio import strict_loads
from gateway.audit.index import AuditIndex
from gateway.audit.replay import Replayer
from gateway.pipeline import Rules
from gateway.processor import Processor
from gateway.signing import Signer
from gateway.types import ChainId
from routing.policy import DEFAULT_DIR
from tests.helpers import NOW, inbound, nla


def decided(rules: Rules, *records: object) -> list[dict[str, object]]:
    index = AuditIndex()
    chain = ChainId("gkt.in.nla/0")
    result = Processor(rules, Signer.generate("gw"), index, "urn:x").process(list(records), {chain: index.head(chain)})  # type: ignore[arg-type]
    return [strict_loads(a.value) for a in result.audits]


def test_a_2025_decision_names_version_1_and_replays_identically(rules: Rules) -> None:
    record = inbound(nla(at=NOW), at=NOW)  # 2 June 2025
    [audit] = decided(rules, record)
    assert str(audit["versions"]["policy"]).startswith("handhavingsplan-2025:1:")  # type: ignore[index]
    report = Replayer(rules, [audit], lambda _moment: rules.reference).run({record.position: record})
    assert (report.identical, report.differences, report.unverifiable) == (1, [], [])


def test_a_decision_recorded_before_version_1_was_closed_replays_with_the_archived_file(rules: Rules) -> None:
    """Closing version 1 (its ``until``) changed its digest; the audit log still names the old one."""
    record = inbound(nla(at=NOW), at=NOW)
    [audit] = decided(rules, record)
    [path] = (DEFAULT_DIR / "archive").glob("handhavingsplan-2025-1-*.toml")
    old_ref = f"handhavingsplan-2025:1:sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}"
    audit["versions"]["policy"] = old_ref  # type: ignore[index]
    report = Replayer(rules, [audit], lambda _moment: rules.reference).run({record.position: record})
    assert (report.identical, report.differences, report.unverifiable) == (1, [], [])


def test_the_recorded_vervolg_is_compared_and_a_record_from_before_it_was_kept_replays(rules: Rules) -> None:
    """``destination.vervolg`` is what the policy said to do with the signal (spec/selection.md): replay decides
    it again; records written before the audit record kept it do not name it, and are not held to it."""
    record = inbound(nla(at=NOW), at=NOW)
    [audit] = decided(rules, record)
    destination = audit["destination"]
    assert isinstance(destination, dict)
    assert destination["vervolg"], "a routed report's record names its vervolg"
    destination["vervolg"] = "iets anders"
    report = Replayer(rules, [audit], lambda _moment: rules.reference).run({record.position: record})
    assert [(d.field, d.recorded) for d in report.differences] == [("destination.vervolg", "iets anders")]
    del destination["vervolg"]
    report = Replayer(rules, [audit], lambda _moment: rules.reference).run({record.position: record})
    assert (report.identical, report.differences) == (1, [])
