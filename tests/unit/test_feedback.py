"""Feedback from detection teams (spec/selection.md): a signed step on a signal of ours is ``recorded``; anything
else is ``FEEDBACK_INVALID`` with a detail naming what failed; whatever arrives, the audit record stays bounded
and holds nothing the sender chose unmasked, and nothing goes to a partner."""

import dataclasses
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.jsonio import dumps
from contracts.team_book import DEFAULT_DIR as TEAMS
from contracts.team_book import TeamBook
from gateway.audit.index import AuditIndex
from gateway.audit.replay import Replayer
from gateway.demo import samples as s
from gateway.errors import ConfigError
from gateway.inbound import SIGNATURE_HEADER, InboundRecord, Position
from gateway.messages import AuditRecord, validate
from gateway.outputs import MAX_SMALL_RECORD_BYTES
from gateway.pipeline import Rules
from gateway.processor import Processor
from gateway.rules_loader import load_rules
from gateway.selection.history import ClientHistory
from gateway.selection.key import ClientKey
from gateway.settings import Settings
from gateway.signing import Signer
from tests.helpers import NOW, inbound, nla

STEP_AT = NOW + timedelta(days=3)  # 2025-06-05


class Desk:
    """One processor with a client memory: signals routed on gkt.in.nla, steps decided on bd.terugkoppeling."""

    def __init__(self, rules: Rules) -> None:
        self.index = AuditIndex()
        self.processor = Processor(
            rules, Signer.generate("gw"), self.index, "urn:x", clients=ClientHistory(ClientKey(b"k" * 32))
        )
        self.offsets: dict[str, int] = {}
        self.outputs: list[Any] = []
        self.details: list[str] = []
        self.audit: list[dict[str, Any]] = []
        self.records: dict[Position, InboundRecord] = {}  # everything decided, as replay reads it back

    def _run(self, record: InboundRecord) -> dict[str, Any]:
        chain = record.position.chain
        result = self.processor.process([record], {chain: self.index.head(chain)})
        [audit] = [json.loads(message.value) for message in result.audits]
        self.index.apply(audit)
        self.audit.append(audit)
        self.records[record.position] = record
        self.outputs += result.outputs
        # The audit record keeps codes; the detail is the decision's (gkt feedback send prints it).
        self.details = [r.detail for d in result.feedback for r in d.reasons]
        for message in result.audits:
            assert len(message.value) < MAX_SMALL_RECORD_BYTES
            validate(AuditRecord, message.value)
        return audit

    def _offset(self, topic: str) -> int:
        offset = self.offsets[topic] = self.offsets.get(topic, -1) + 1
        return offset

    def signal(self) -> str:
        """Route an NLA report; its signal id."""
        audit = self._run(inbound(nla(), offset=self._offset("nla")))
        assert audit["outcome"] == "routed"
        return str(audit["destination"]["signal_id"])

    def step(
        self,
        value: bytes | None,
        *,
        key: bytes | None,
        headers: tuple[tuple[str, bytes | None], ...],
        at: datetime = STEP_AT,
        timestamp_ms: int | None = None,
        broker_time: bool = True,
    ) -> dict[str, Any]:
        millis = int(at.timestamp() * 1000) if timestamp_ms is None else timestamp_ms
        position = Position("bd.terugkoppeling", 0, self._offset("feedback"))
        return self._run(InboundRecord(position, millis, value, headers, key=key, broker_time=broker_time))

    def send(
        self,
        signal_id: str,
        status: str = "geselecteerd",
        on: str = "2025-06-04",
        team: str = "mkb-oost",
        *,
        signer: str | None = None,
        key: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        value = s.feedback(signal_id, status, on, team)
        header = s.sign_feedback(value, signer or team)
        return self.step(value, key=(key or signal_id).encode(), headers=((SIGNATURE_HEADER, header),), **options)


@pytest.fixture
def desk(rules: Rules) -> Desk:
    return Desk(rules)


def test_a_signed_step_on_a_signal_of_ours_is_recorded_and_goes_nowhere(desk: Desk) -> None:
    signal_id = desk.signal()
    before = len(desk.outputs)
    audit = desk.send(signal_id, "onderzoek_gestart")
    assert audit["outcome"] == "recorded", audit["reasons"]
    assert audit["chain"] == "bd.terugkoppeling/0"
    assert audit["feedback"] == {
        "signal_id": signal_id,
        "status": "onderzoek_gestart",
        "op": "2025-06-04",
        "team": "mkb-oost",
        "partner": "nla",
    }
    assert audit["event"]["kid"] == "mkb-oost-2025"
    assert audit["versions"]["teams"].startswith("2025.1:sha256:")
    assert len(desk.outputs) == before, "nothing of it reaches a partner (or anyone else)"
    assert "client" not in audit
    assert "eerdere" not in audit


def _detail(desk: Desk, audit: dict[str, Any]) -> str:
    assert audit["outcome"] == "rejected"
    assert [r["code"] for r in audit["reasons"]] == ["FEEDBACK_INVALID"]
    [detail] = desk.details
    return detail


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"status": "verdacht"}, "status must be one of geselecteerd"),
        ({"on": "4 juni 2025"}, "op must be a date"),
        ({"on": "2025-02-30"}, "op must be a date"),
        ({"team": "mkb oost", "signer": "mkb-oost"}, "team is not a team id"),
        ({"team": "mkb-noord", "signer": "mkb-oost"}, "teams 2025.1 list no key with this kid for team"),
        ({"signer": "mkb-west"}, "teams 2025.1 list no key with this kid for team"),
        ({"key": "8c1f2a0e-0000-4000-8000-000000000000"}, "key is not the signaalId"),
        ({"on": "2025-06-01"}, "op is before the signal's ontvangenOp"),
        ({"on": "2025-06-06"}, "op is after the day the step was received"),
    ],
)
def test_every_refusal_says_what_failed(desk: Desk, change: dict[str, Any], detail: str) -> None:
    signal_id = desk.signal()
    sent = {"on": "2025-06-04", **change}
    audit = desk.send(signal_id, **sent)
    assert detail in _detail(desk, audit)
    assert audit["feedback"]["team"] is None or audit["feedback"]["team"] == "mkb-oost"


def test_a_step_dated_by_its_producer_counts_only_where_producer_time_is_trusted(rules: Rules) -> None:
    """Broker time (wire.md): a team whose key ended cannot date a step back to when it was valid."""
    desk = Desk(dataclasses.replace(rules, trust_producer_time=False))
    signal_id = desk.signal()
    backdated = desk.send(signal_id, broker_time=False)
    assert backdated["outcome"] == "rejected"
    assert [r["code"] for r in backdated["reasons"]] == ["TIMESTAMP_UNTRUSTED"]
    assert desk.send(signal_id)["outcome"] == "recorded"


def test_a_step_on_a_signal_the_gateway_never_wrote_is_refused_and_its_id_masked(desk: Desk) -> None:
    desk.signal()
    unknown = "0b9c2f1e-7d3a-5c11-9e4b-2a6f8d0c4e17"
    audit = desk.send(unknown)
    assert "unknown signaalId" in _detail(desk, audit)
    assert audit["feedback"]["team"] == "mkb-oost"  # the signature verified: the team is known
    assert audit["feedback"]["signal_id"] != unknown
    assert audit["feedback"]["partner"] is None


def test_a_bad_signature_names_no_team(desk: Desk) -> None:
    signal_id = desk.signal()
    value = s.feedback(signal_id, "geselecteerd", "2025-06-04", "mkb-oost")
    forged = s.sign_feedback(s.feedback(signal_id, "geen_vervolg", "2025-06-04", "mkb-oost"), "mkb-oost")
    audit = desk.step(value, key=signal_id.encode(), headers=((SIGNATURE_HEADER, forged),))
    assert "the signature does not verify" in _detail(desk, audit)
    assert audit["feedback"]["team"] is None  # the claimed team is the sender's word until it verified
    assert audit["feedback"]["signal_id"] == signal_id  # a signal of ours: ours to name


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (None, "the record has no value"),
        (b"\xff{", "not UTF-8 I-JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"signaalId":"x","status":"geselecteerd","op":"2025-06-04","team":"mkb-oost","naam":"J"}', "a member other"),
        (b"{" + b" " * 5000 + b"}", "larger than 4096 bytes"),
    ],
)
def test_an_unreadable_step_is_refused(desk: Desk, value: bytes | None, detail: str) -> None:
    audit = desk.step(value, key=b"k", headers=())
    assert detail in _detail(desk, audit)
    assert audit["feedback"]["team"] is None


def test_test_teams_count_only_with_allow_test_oins() -> None:
    strict = load_rules(Settings(reference=s.REFERENCE_FILE, allow_test_oins=True))
    desk = Desk(strict)
    signal_id = desk.signal()
    desk.processor.rules = dataclasses.replace(strict, allow_test_oins=False)
    audit = desk.send(signal_id)
    assert "teams 2025.1 hold test keys" in _detail(desk, audit)


def test_without_a_teams_version_in_force_every_step_is_refused(rules: Rules) -> None:
    desk = Desk(dataclasses.replace(rules, teams=TeamBook([])))
    audit = desk.send(desk.signal())
    assert "no teams version is in force" in _detail(desk, audit)


def test_replay_decides_every_step_again_as_the_gateway_did(desk: Desk) -> None:
    first, second = desk.signal(), desk.signal()
    recorded = [
        desk.send(first, "geselecteerd", "2025-06-02"),
        desk.send(first, "onderzoek_gestart", "2025-06-05"),
        desk.send(second, "niet_geselecteerd", "2025-06-04", "mkb-west"),
        desk.send("0b9c2f1e-7d3a-5c11-9e4b-2a6f8d0c4e17"),  # unknown
        desk.send(second, "geen_vervolg", "2025-06-01"),  # before the signal
    ]
    assert [a["outcome"] for a in recorded] == ["recorded", "recorded", "recorded", "rejected", "rejected"]
    rules = desk.processor.rules
    report = Replayer(rules, desk.audit, lambda _moment: rules.reference).run(desk.records)
    assert report.ok, (report.differences, report.unverifiable)
    assert report.identical == len(desk.audit)
    # A step changed in the log (another status) is found.
    tampered = [dict(a) for a in desk.audit]
    changed = next(i for i, a in enumerate(tampered) if a.get("feedback", {}).get("status") == "geselecteerd")
    tampered[changed] = {**tampered[changed], "feedback": {**tampered[changed]["feedback"], "status": "boete_opgelegd"}}
    report = Replayer(rules, tampered, lambda _moment: rules.reference).run(desk.records)
    assert [d.field for d in report.differences] == ["feedback.status"]


# Hostile records: any bytes, any headers, any timestamp


@settings(max_examples=150, deadline=None)
@given(
    value=st.one_of(
        st.none(),
        st.binary(max_size=300),
        st.dictionaries(st.sampled_from(["signaalId", "status", "op", "team", "x"]), st.text(max_size=40)).map(dumps),
    ),
    headers=st.lists(st.tuples(st.text(max_size=20), st.one_of(st.none(), st.binary(max_size=80))), max_size=3),
    key=st.one_of(st.none(), st.binary(max_size=40)),
    timestamp_ms=st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
def test_any_feedback_record_is_decided_bounded_and_masked(
    value: bytes | None, headers: list[tuple[str, bytes | None]], key: bytes | None, timestamp_ms: int
) -> None:
    desk = Desk(_RULES)
    audit = desk.step(value, key=key, headers=tuple(headers), timestamp_ms=timestamp_ms)
    assert audit["outcome"] == "rejected"
    assert desk.outputs == []
    feedback = audit["feedback"]
    assert feedback["team"] is None
    assert feedback["partner"] is None
    shape = re.compile(r"[x9?\W_]*")  # whatever the sender wrote is kept only as its shape
    for sent in (feedback["signal_id"], audit["event"]["kid"]):
        assert sent is None or shape.fullmatch(sent), sent
    assert feedback["status"] is None or feedback["status"] in s.FEEDBACK_STATUSES


_RULES = load_rules(Settings(reference=s.REFERENCE_FILE, allow_test_oins=True))


# The teams file: the reviewers' rules, and no key shared with a partner or reviewer


def test_a_team_key_that_is_a_partners_key_does_not_load(tmp_path: Path) -> None:
    nla_key = (Path(s.__file__).parents[2] / "tests" / "fixtures" / "demo-keys" / "nla-2025-01.pub.pem").read_text()
    source = (TEAMS / "2025.1.toml").read_text()
    pem = re.search(r'public_key = """\n(.*?)"""', source, re.S)
    assert pem is not None
    (tmp_path / "2025.1.toml").write_text(source.replace(pem.group(1), nla_key, 1))
    with pytest.raises(ConfigError, match=r"teams 2025\.1: mkb-oost \(kid mkb-oost-2025\) is a key of partner nla"):
        load_rules(Settings(reference=s.REFERENCE_FILE, teams=tmp_path))


def test_two_teams_with_one_key_do_not_load(tmp_path: Path) -> None:
    from contracts.errors import DefinitionError

    source = (TEAMS / "2025.1.toml").read_text()
    keys = re.findall(r'public_key = """\n(.*?)"""', source, re.S)
    (tmp_path / "2025.1.toml").write_text(source.replace(keys[1], keys[0]))
    with pytest.raises(DefinitionError, match=r"teams\[0\] \(mkb-oost, kid mkb-oost-2025\) and teams\[1\]"):
        TeamBook.load(tmp_path)
