"""NLA 1.1 and 2.0: what each version adds, and that every version maps to the same signal."""

from datetime import UTC, date, datetime
from typing import Any

import pytest

from contracts.base import Party
from contracts.registry import ContractRegistry
from gateway.demo import samples as s
from gateway.pipeline import Rules, decide
from gateway.reasons import Outcome
from gateway.stages.contract import reason_for
from tests.helpers import Memory, inbound

REGISTRY = ContractRegistry.discover()
TODAY = date(2026, 3, 2)
V10, V11, V20 = (REGISTRY.get("nl.nla.schijnzelfstandigheid", v) for v in ("1.0", "1.1", "2.0"))


def problems(contract: Any, data: Any) -> list[tuple[str, str | None]]:
    _, violations = contract.validate(data, TODAY)
    return sorted((r.code.value, r.path) for r in map(reason_for, violations))


def test_every_published_version_is_registered() -> None:
    assert REGISTRY.versions("nl.nla.schijnzelfstandigheid") == ["1.0", "1.1", "2.0"]


def test_a_1_0_event_stays_valid_under_1_1_but_not_under_2_0() -> None:
    report = s.nla_report()
    assert problems(V10, report) == []
    assert problems(V11, report) == []
    assert [path for _, path in problems(V20, report)] == [f"/data/indicatoren/{i}/bron" for i in range(3)]


def test_1_0_refuses_the_intermediary_of_1_1() -> None:
    assert problems(V10, s.nla_report_11()) == [("CONTRACT_VIOLATION", "/data/intermediair")]


def test_2_0_replaces_intermediair_by_keten() -> None:
    report = s.nla_report_20(intermediair={"kvkNummer": "11223344", "naam": "x", "rol": "uitlener"})
    assert problems(V20, report) == [("CONTRACT_VIOLATION", "/data/intermediair")]


@pytest.mark.parametrize(
    ("change", "path", "code"),
    [
        (
            {"intermediair": {"kvkNummer": "11223344", "naam": "x", "rol": "inlener"}},
            "/data/intermediair/rol",
            "CONTRACT_VIOLATION",
        ),
        (
            {"intermediair": {"kvkNummer": "1122334", "naam": "x", "rol": "platform"}},
            "/data/intermediair/kvkNummer",
            "IDENTIFIER_INVALID",
        ),
        (
            {"intermediair": {"kvkNummer": "11223344", "rol": "platform"}},
            "/data/intermediair/naam",
            "CONTRACT_VIOLATION",
        ),
    ],
)
def test_1_1_intermediary_rules(change: dict[str, Any], path: str, code: str) -> None:
    assert problems(V11, s.nla_report(**change)) == [(code, path)]


def test_2_0_chain_holds_at_most_ten_links() -> None:
    link = {"kvkNummer": "11223344", "naam": "x", "rol": "platform"}
    assert problems(V20, s.nla_report_20(keten=[link] * 10)) == []
    assert problems(V20, s.nla_report_20(keten=[link] * 11)) == [("CONTRACT_VIOLATION", "/data/keten")]
    assert problems(V20, s.nla_report_20(keten=[])) == []


def test_2_0_evidence_source_values() -> None:
    report = s.nla_report_20(indicatoren=[{"code": "GEZAG", "bron": "gerucht"}])
    assert problems(V20, report) == [("CONTRACT_VIOLATION", "/data/indicatoren/0/bron")]


@pytest.mark.parametrize(
    ("contract", "report", "keten"),
    [
        (V10, s.nla_report(), []),
        (V11, s.nla_report_11(), [Party("11223344", "Flex Uitzendbureau B.V.", "uitlener")]),
        (
            V20,
            s.nla_report_20(),
            [
                Party("11223344", "Flex Uitzendbureau B.V.", "uitlener"),
                Party("55667788", "Klusplatform B.V.", "platform"),
            ],
        ),
    ],
)
def test_every_version_maps_to_the_signal_keten(contract: Any, report: dict[str, Any], keten: list[Party]) -> None:
    model, reasons = contract.validate(report, TODAY)
    assert reasons == []
    subject = model.subject(TODAY)
    assert subject.keten == keten
    assert subject.indicatoren == ["GEZAG", "INBEDDING", "LOON"]


def test_1_1_is_not_agreed_before_2026(rules: Rules) -> None:
    at = datetime(2025, 6, 2, 10, tzinfo=UTC)
    value = s.encode(s.event(s.nla_report_11(), time=at, version="1.1"))
    decision = decide(inbound(value, at=at), rules, Memory())
    assert decision.outcome is Outcome.REJECTED
    assert [(r.code.value, r.path) for r in decision.reasons] == [("REPORT_TYPE_NOT_AGREED", "/dataschema")]
    later = datetime(2026, 1, 5, 10, tzinfo=UTC)
    value = s.encode(s.event(s.nla_report_11(), time=later, version="1.1"))
    assert decide(inbound(value, at=later), rules, Memory()).outcome is Outcome.ROUTED
