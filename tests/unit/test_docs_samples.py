"""docs/partners.md shows a key entry and a complete event for every contract version: they stay valid."""

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.agreement import AgreementKey
from gateway.demo import samples as s
from gateway.pipeline import Rules, decide
from gateway.reasons import Outcome, ReasonCode
from tests.helpers import Memory, inbound

PARTNERS_DOC = Path(__file__).parents[2] / "docs" / "partners.md"
RECEIVED = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)  # a minute after the samples' time
_BLOCK = r"<!-- {marker} -->\n```{language}\n(.*?)\n```"


def blocks(marker: str, language: str) -> list[Any]:
    """The code blocks that follow ``<!-- marker -->``; a marker with groups gives tuples."""
    pattern = _BLOCK.format(marker=marker, language=language)
    return re.findall(pattern, PARTNERS_DOC.read_text(), flags=re.DOTALL)


def test_every_contract_version_has_a_sample_event_that_is_decided_as_valid(rules: Rules) -> None:
    found = blocks(r"sample event: (\S+) (\S+)", "json")
    assert {(t, v) for t, v, _ in found} == {(c.type, c.version) for c in rules.contracts}
    for report_type, version, text in found:
        value = text.encode()
        partner, kid = ("kvk", "kvk-2025-01") if report_type == s.KVK_TYPE else ("nla", "nla-2025-01")
        decision = decide(inbound(value, partner=partner, kid=kid, at=RECEIVED), rules, Memory())
        assert decision.event is not None, (report_type, version, decision.reasons)
        assert (decision.event.type, decision.event.version) == (report_type, version)
        # Routed, or held only because the KVK agreement asks every report to be reviewed.
        held = [r.code for r in decision.reasons]
        assert decision.outcome is Outcome.ROUTED or held == [ReasonCode.REVIEW_REQUIRED], (report_type, held)


def test_the_agreement_key_entry_is_one_the_loader_takes() -> None:
    [text] = blocks("agreement key entry", "toml")
    [entry] = tomllib.loads(text)["keys"]
    key = AgreementKey.model_validate(entry)
    assert (key.kid, key.alg) == ("nla-2026-01", "EdDSA")
