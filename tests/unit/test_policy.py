"""Enforcement policy: every worked example of spec/policy.md, and the destinations."""

from datetime import UTC, date, datetime

import pytest

from contracts.base import ReportSubject
from routing.policy import PolicyBook
from routing.reference import ReferenceRecord

POLICY = PolicyBook.load().in_force(datetime(2025, 6, 1, tzinfo=UTC))


def subject(van: str, tot: str, kwaadwillendheid: bool = False) -> ReportSubject:
    return ReportSubject(
        "r",
        {"kvkNummer": "12345678"},
        [],
        1,
        [],
        [],
        date.fromisoformat(van),
        date.fromisoformat(tot),
        ["GEZAG"],
        "zwaar_vermoeden",
        kwaadwillendheid,
    )


def client(
    segment: str = "mkb", ht: bool = False, aanwijzing: str | None = None, model: str | None = None
) -> ReferenceRecord:
    return ReferenceRecord.model_validate(
        {
            "kvkNummer": "12345678",
            "segment": segment,
            "horizontaalToezichtLoonheffingen": ht,
            "aanwijzingDatum": aanwijzing,
            "modelovereenkomstTot": model,
        }
    )


@pytest.mark.parametrize(
    ("received", "van", "tot", "kwaad", "aanwijzing", "vanaf", "corrigeerbaar", "boete"),
    [
        ("2025-06-01", "2023-01-01", "2025-05-31", False, None, "2025-01-01", True, False),
        ("2025-06-01", "2022-03-01", "2024-12-31", False, None, "2025-01-01", False, False),
        ("2025-06-01", "2022-03-01", "2024-12-31", True, None, "2020-01-01", True, False),
        ("2026-02-10", "2025-07-01", "2026-01-31", False, None, "2025-01-01", True, True),
        ("2031-03-01", "2024-01-01", "2030-12-31", False, None, "2026-01-01", True, True),
        ("2025-09-01", "2021-01-01", "2023-12-31", False, "2023-05-01", "2020-01-01", True, False),
    ],
)
def test_worked_examples(
    received: str, van: str, tot: str, kwaad: bool, aanwijzing: str | None, vanaf: str, corrigeerbaar: bool, boete: bool
) -> None:
    at = datetime.fromisoformat(received + "T12:00:00+00:00")
    result = POLICY.enforce(subject(van, tot, kwaad), client(aanwijzing=aanwijzing), at)
    assert result.correctie_mogelijk_vanaf == date.fromisoformat(vanaf)
    assert result.periode_corrigeerbaar is corrigeerbaar
    assert result.boete_mogelijk is boete


def test_a_designation_from_2025_on_keeps_the_soft_landing() -> None:
    at = datetime(2025, 9, 1, tzinfo=UTC)
    result = POLICY.enforce(subject("2021-01-01", "2023-12-31"), client(aanwijzing="2025-01-01"), at)
    assert result.correctie_mogelijk_vanaf == date(2025, 1, 1)


@pytest.mark.parametrize(
    ("segment", "ht", "topic"),
    [
        ("go", False, "bd.detectie.go"),
        ("go", True, "bd.detectie.go"),
        ("mkb", True, "bd.ht.kwaliteitsgesprek"),
        ("mkb", False, "bd.detectie.mkb"),
    ],
)
def test_destination(segment: str, ht: bool, topic: str) -> None:
    at = datetime(2025, 6, 1, tzinfo=UTC)
    assert POLICY.enforce(subject("2025-01-01", "2025-05-01"), client(segment, ht), at).destination == topic


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (None, None),
        ("2027-03-31", date(2027, 3, 31)),
        ("2031-06-30", date(2029, 12, 31)),
    ],
)
def test_model_agreements_are_capped(model: str | None, expected: date | None) -> None:
    at = datetime(2025, 6, 1, tzinfo=UTC)
    assert (
        POLICY.enforce(subject("2025-01-01", "2025-05-01"), client(model=model), at).modelovereenkomst_tot == expected
    )


def test_policy_version_and_digest_are_recorded() -> None:
    assert POLICY.label == "handhavingsplan-2025:1"
    assert POLICY.ref.startswith("handhavingsplan-2025:1:sha256:")
    assert len(POLICY.ref.split("sha256:")[1]) == 64
