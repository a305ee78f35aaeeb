"""Enforcement policy: every worked example of spec/policy.md, both versions, Dutch calendar dates."""

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.base import ReportSubject
from routing.calendar import day_of_receipt
from routing.policy import DEFAULT_DIR, Enforcement, Policy, PolicyBook
from routing.reference import ReferenceRecord

BOOK = PolicyBook.load()
V1 = BOOK.in_force(datetime(2025, 6, 1, tzinfo=UTC))
V2 = BOOK.in_force(datetime(2026, 6, 1, tzinfo=UTC))


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
    segment: str = "mkb",
    ht: bool = False,
    aanwijzing: str | None = None,
    model: str | None = None,
    niveau: str | None = None,
) -> ReferenceRecord:
    fields: dict[str, Any] = {
        "kvkNummer": "12345678",
        "segment": segment,
        "horizontaalToezichtLoonheffingen": ht,
        "aanwijzingDatum": aanwijzing,
        "modelovereenkomstTot": model,
    }
    if niveau is not None:
        fields["htNiveau"] = niveau
    return ReferenceRecord.model_validate(fields)


def enforce(policy: Policy, received_at: str, period: tuple[str, str], **kwargs: Any) -> Enforcement:
    kwaad = kwargs.pop("kwaad", False)
    moment = datetime.fromisoformat(received_at)
    result = policy.enforce(subject(*period, kwaadwillendheid=kwaad), client(**kwargs), day_of_receipt(moment))
    assert result is not None
    return result


def test_the_version_in_force_follows_the_dutch_calendar() -> None:
    assert BOOK.in_force(datetime(2025, 12, 31, 22, 59, tzinfo=UTC)) is V1
    assert BOOK.in_force(datetime(2025, 12, 31, 23, 0, tzinfo=UTC)) is V2  # midnight in Amsterdam
    assert (V1.version, V2.version) == (1, 2)
    assert V1.in_force.until == V2.in_force.from_


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        ("2025-12-31T23:30:00+00:00", "2026-01-01"),  # New Year in the Netherlands, still 2025 in UTC
        ("2025-06-01T22:30:00+00:00", "2025-06-02"),  # summer time: UTC+2
        ("2025-06-01T21:59:59+00:00", "2025-06-01"),
        ("2025-03-30T00:30:00+00:00", "2025-03-30"),  # the night the clocks go forward
    ],
)
def test_the_day_of_receipt_is_the_dutch_calendar_date(moment: str, day: str) -> None:
    assert day_of_receipt(datetime.fromisoformat(moment)) == date.fromisoformat(day)


# Version 1, spec/policy.md: received_at → correctieMogelijkVanaf, corrigeerbaar, boeteMogelijk
@pytest.mark.parametrize(
    ("received", "van", "tot", "kwaad", "aanwijzing", "vanaf", "grond", "corrigeerbaar", "boete"),
    [
        ("2025-06-01", "2023-01-01", "2025-05-31", False, None, "2025-01-01", "ingroeimodel", True, False),
        ("2025-06-01", "2022-03-01", "2024-12-31", False, None, "2025-01-01", "ingroeimodel", False, False),
        ("2025-06-01", "2022-03-01", "2024-12-31", True, None, "2020-01-01", "kwaadwillendheid_gemeld", True, False),
        ("2026-02-10", "2025-07-01", "2026-01-31", False, None, "2025-01-01", "ingroeimodel", True, True),
        ("2031-03-01", "2024-01-01", "2030-12-31", False, None, "2026-01-01", "regulier", True, True),
        ("2025-09-01", "2021-01-01", "2023-12-31", False, "2023-05-01", "2020-01-01", "aanwijzing", True, False),
    ],
)
def test_version_1_worked_examples(
    received: str,
    van: str,
    tot: str,
    kwaad: bool,
    aanwijzing: str | None,
    vanaf: str,
    grond: str,
    corrigeerbaar: bool,
    boete: bool,
) -> None:
    result = enforce(V1, received + "T12:00:00+00:00", (van, tot), kwaad=kwaad, aanwijzing=aanwijzing)
    assert result.correctie_mogelijk_vanaf == date.fromisoformat(vanaf)
    assert result.correctie_grond == grond
    assert result.periode_corrigeerbaar is corrigeerbaar
    assert result.boete_mogelijk is boete
    assert (result.ht_niveau, result.boete_mogelijk_vanaf) == (None, date(2026, 1, 1))


ROWS_V2 = [
    # received_at, period, reference/report, (destination, vervolg), (vanaf, grond), corrigeerbaar, boete
    ("2026-02-10T10:00+01:00", ("2025-07-01", "2026-01-31"), {}, ("bd.detectie.mkb", "detectie"),
     ("2025-01-01", "ingroeimodel"), True, True),
    ("2026-03-02T10:00+01:00", ("2022-03-01", "2024-12-31"), {}, ("bd.detectie.mkb", "detectie"),
     ("2025-01-01", "ingroeimodel"), False, False),
    ("2026-03-02T10:00+01:00", ("2022-03-01", "2024-12-31"), {"kwaad": True}, ("bd.detectie.mkb", "detectie"),
     ("2021-01-01", "kwaadwillendheid_gemeld"), True, False),
    ("2026-03-02T10:00+01:00", ("2021-01-01", "2023-12-31"), {"aanwijzing": "2023-05-01"},
     ("bd.detectie.mkb", "detectie"), ("2023-05-01", "aanwijzing"), True, False),
    ("2026-03-02T10:00+01:00", ("2019-06-01", "2022-12-31"), {"aanwijzing": "2019-02-01", "kwaad": True},
     ("bd.detectie.mkb", "detectie"), ("2021-01-01", "aanwijzing"), True, False),
    ("2025-12-31T23:30+00:00", ("2025-03-01", "2025-12-31"), {}, ("bd.detectie.mkb", "detectie"),
     ("2025-01-01", "ingroeimodel"), True, False),
    ("2026-05-04T10:00+02:00", ("2026-01-01", "2026-12-31"), {}, ("bd.detectie.mkb", "detectie"),
     ("2025-01-01", "ingroeimodel"), True, True),
    ("2026-05-04T10:00+02:00", ("2025-02-01", "2025-10-31"), {"ht": True, "niveau": "fiscaliteit"},
     ("bd.ht.kwaliteitsgesprek", "kwaliteitsgesprek"), ("2025-01-01", "ingroeimodel"), True, False),
    ("2026-05-04T10:00+02:00", ("2025-02-01", "2025-10-31"), {"ht": True, "niveau": "volledigheid"},
     ("bd.ht.registratie", "geen_verder_onderzoek"), ("2025-01-01", "ingroeimodel"), True, False),
    ("2026-05-04T10:00+02:00", ("2025-02-01", "2025-10-31"), {"segment": "go", "ht": True, "niveau": "fiscaliteit"},
     ("bd.detectie.go", "detectie"), ("2025-01-01", "ingroeimodel"), True, False),
    ("2031-03-03T10:00+01:00", ("2024-01-01", "2030-12-31"), {}, ("bd.detectie.mkb", "detectie"),
     ("2026-01-01", "regulier"), True, True),
]  # fmt: skip


@pytest.mark.parametrize(("received", "period", "facts", "goes", "window", "corrigeerbaar", "boete"), ROWS_V2)
def test_version_2_worked_examples(
    received: str,
    period: tuple[str, str],
    facts: dict[str, Any],
    goes: tuple[str, str],
    window: tuple[str, str],
    corrigeerbaar: bool,
    boete: bool,
) -> None:
    assert BOOK.in_force(datetime.fromisoformat(received)) is V2  # every example of version 2 is in its time
    result = enforce(V2, received, period, **facts)
    assert (result.destination, result.vervolg) == goes
    assert (result.correctie_mogelijk_vanaf.isoformat(), result.correctie_grond) == window
    assert result.periode_corrigeerbaar is corrigeerbaar
    assert result.boete_mogelijk is boete
    assert result.boete_mogelijk_vanaf == date(2026, 1, 1)
    assert result.ht_niveau == facts.get("niveau")


def test_version_2_has_no_route_for_an_ht_client_without_a_level() -> None:
    moment = day_of_receipt(datetime.fromisoformat("2026-05-04T10:00+02:00"))
    assert V2.enforce(subject("2025-02-01", "2025-10-31"), client(ht=True), moment) is None
    assert V1.enforce(subject("2025-02-01", "2025-10-31"), client(ht=True), moment) is not None  # v1: any HT client


@pytest.mark.parametrize("niveau", ["volledigheid", "juistheid", "fiscaliteit", None])
def test_version_1_sends_every_ht_client_to_the_quality_conversation(niveau: str | None) -> None:
    result = enforce(V1, "2025-06-01T12:00:00+00:00", ("2025-01-01", "2025-05-01"), ht=True, niveau=niveau)
    assert (result.destination, result.vervolg) == ("bd.ht.kwaliteitsgesprek", "kwaliteitsgesprek")
    # spec/selection.md: version 1 did not read levels, so it passes none on, whatever the reference data says.
    assert result.ht_niveau is None


@pytest.mark.parametrize("niveau", ["volledigheid", "juistheid", "fiscaliteit"])
def test_version_2_passes_the_level_it_routed_by_on(niveau: str) -> None:
    result = enforce(V2, "2026-06-01T12:00:00+00:00", ("2025-01-01", "2025-05-01"), ht=True, niveau=niveau)
    assert result.ht_niveau == niveau
    assert (V1.reads_ht_levels, V2.reads_ht_levels) == (False, True)


@pytest.mark.parametrize(
    ("policy", "received_at", "vanaf", "boete_vanaf"),
    [
        # Worked example, version 1: a KVK report received 1 June 2025. No period of work, so whether the period
        # is correctable and whether a fine is possible are unknown (null), never assumed; the dates still hold.
        ("V1", "2025-06-01T12:00:00+02:00", date(2025, 1, 1), date(2026, 1, 1)),
        # Worked example, version 2: received 2 March 2026, when a period ending after 1 January 2026 would have
        # said boeteMogelijk true. Without one it says null.
        ("V2", "2026-03-02T10:00:00+01:00", date(2025, 1, 1), date(2026, 1, 1)),
    ],
)
def test_a_report_without_a_period_judges_nothing_that_needs_one(
    policy: str, received_at: str, vanaf: date, boete_vanaf: date
) -> None:
    chosen = {"V1": V1, "V2": V2}[policy]
    without = ReportSubject("r", {"kvkNummer": "12345678"}, [], 1, [], [], None, None, ["EEN_OPDRACHTGEVER"],
                            "zwaar_vermoeden", False)  # fmt: skip
    result = chosen.enforce(without, client(), day_of_receipt(datetime.fromisoformat(received_at)))
    assert result is not None
    assert (result.periode_corrigeerbaar, result.boete_mogelijk) == (None, None)
    assert (result.correctie_mogelijk_vanaf, result.boete_mogelijk_vanaf) == (vanaf, boete_vanaf)
    signal = result.as_signal()
    assert (signal["periodeCorrigeerbaar"], signal["boeteMogelijk"]) == (None, None)


def test_a_designation_from_2025_on_keeps_the_soft_landing() -> None:
    for policy in (V1, V2):
        result = enforce(policy, "2025-09-01T12:00:00+00:00", ("2021-01-01", "2023-12-31"), aanwijzing="2025-01-01")
        assert (result.correctie_mogelijk_vanaf, result.correctie_grond) == (date(2025, 1, 1), "ingroeimodel")


@pytest.mark.parametrize(
    ("model", "expected"),
    [(None, None), ("2027-03-31", date(2027, 3, 31)), ("2031-06-30", date(2029, 12, 31))],
)
def test_model_agreements_are_capped(model: str | None, expected: date | None) -> None:
    for policy in (V1, V2):
        result = enforce(policy, "2025-06-01T12:00:00+00:00", ("2025-01-01", "2025-05-01"), model=model)
        assert result.modelovereenkomst_tot == expected


def test_policy_version_and_digest_are_recorded() -> None:
    assert V1.label == "handhavingsplan-2025:1"
    assert V2.ref.startswith("handhavingsplan-2025:2:sha256:")
    assert len(V2.ref.split("sha256:")[1]) == 64


def test_the_archived_first_version_is_found_by_the_digest_old_decisions_recorded() -> None:
    """Version 1 got its ``until``: the file as it was before stays in archive/ for replay."""
    [path] = (DEFAULT_DIR / "archive").glob("handhavingsplan-2025-1-*.toml")
    archived = BOOK.by_ref(f"{V1.label}:sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}")
    assert archived is not None
    assert archived.ref != V1.ref
    assert archived.in_force.until is None
    assert (archived.routes, archived.correction, archived.fines) == (V1.routes, V1.correction, V1.fines)


DAYS = st.dates(date(2018, 1, 1), date(2040, 12, 31))


@given(
    received=st.datetimes(datetime(2025, 1, 1), datetime(2040, 12, 31), timezones=st.just(UTC)),
    van=DAYS,
    length=st.integers(0, 4000),
    kwaad=st.booleans(),
    aanwijzing=st.none() | DAYS,
)
def test_a_correctable_period_never_starts_its_window_after_its_effective_end(
    received: datetime, van: date, length: int, kwaad: bool, aanwijzing: date | None
) -> None:
    """periodeCorrigeerbaar promises there is something to correct: the window opens on or before the effective end."""
    tot = van + timedelta(days=length)
    policy = BOOK.in_force(received)
    on = day_of_receipt(received)
    reference = client(aanwijzing=aanwijzing.isoformat() if aanwijzing else None)
    result = policy.enforce(subject(van.isoformat(), tot.isoformat(), kwaad), reference, on)
    assert result is not None
    if result.periode_corrigeerbaar:
        assert result.correctie_mogelijk_vanaf <= min(tot, on)
    assert result.boete_mogelijk == (min(tot, on) >= result.boete_mogelijk_vanaf)
