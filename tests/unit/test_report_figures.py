"""``gkt report``'s figures (spec/selection.md, "Figures") against a log built here with known counts: every
table, every period boundary in Dutch time, the <10 threshold, records read in any order."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.report.figures import FigureCounter, Table, Window
from gateway.report.render import to_csv, to_json
from gateway.report.summary import SUMMARY_TYPE, summary_event
from gateway.report.threshold import HIDDEN, hide_small
from tests.report_log import NOON, YEAR, Log


def rows(table: Table) -> list[tuple[Any, ...]]:
    return table.rows


def test_every_table_counts_what_the_log_holds() -> None:
    log = Log()
    signals = [log.report("nla", "routed", NOON) for _ in range(12)]
    log.report("nla", "routed", NOON, vervolg="kwaliteitsgesprek")
    for _ in range(3):
        log.report("kvk", "rejected", NOON, "CONTRACT_VIOLATION", "IDENTIFIER_INVALID")
    log.report("kvk", "rejected", NOON, "SIGNATURE_INVALID")
    log.report("nla", "duplicate", NOON, "DUPLICATE")
    held = [log.report("kvk", "quarantined", NOON, "REVIEW_REQUIRED") for _ in range(3)]
    released = log.close(held[0], "released", NOON + timedelta(days=2))
    log.close(held[1], "discarded", NOON + timedelta(days=4))
    log.close(held[2], "pending", NOON + timedelta(days=5))  # not closed: not counted
    for signal_id in signals[:4]:
        log.step(signal_id, "geselecteerd", "2026-02-13")  # three days after receipt
    log.step(signals[0], "geselecteerd", "2026-02-20")  # the same signal again: once per status
    log.step(signals[0], "onderzoek_gestart", "2026-03-01")
    log.step(signals[5], "geselecteerd", "2026-02-20", outcome="rejected")  # refused: never counted
    log.step(released, "geselecteerd", "2026-02-22", partner="kvk")  # released: received when held (12 days)

    for shuffle in (False, True):  # chains arrive in any order
        tables = log.tables(shuffle=shuffle)
        assert rows(tables["reports"]) == [
            ("2026-Q1", "kvk", "quarantined", 3),
            ("2026-Q1", "kvk", "rejected", 4),
            ("2026-Q1", "nla", "duplicate", 1),
            ("2026-Q1", "nla", "routed", 13),
        ]
        assert rows(tables["rejections"]) == [
            ("2026-Q1", "kvk", "CONTRACT_VIOLATION", 3),
            ("2026-Q1", "kvk", "IDENTIFIER_INVALID", 3),
            ("2026-Q1", "kvk", "SIGNATURE_INVALID", 1),
        ]
        assert rows(tables["signals"]) == [
            ("2026-Q1", "bd.detectie.go", "detectie", 1),
            ("2026-Q1", "bd.detectie.mkb", "detectie", 12),
            ("2026-Q1", "bd.detectie.mkb", "kwaliteitsgesprek", 1),
        ]
        assert rows(tables["quarantine"]) == [("2026-Q1", 1, 1, 2, 3.0, 4.0)]
        assert rows(tables["feedback"]) == [
            ("2026-Q1", "kvk", "geselecteerd", 1),
            ("2026-Q1", "nla", "geselecteerd", 4),
            ("2026-Q1", "nla", "onderzoek_gestart", 1),
        ]
        assert rows(tables["selection_time"]) == [("2026-Q1", "kvk", 1, 12.0), ("2026-Q1", "nla", 4, 3.0)]


@pytest.mark.parametrize(
    ("moment", "by", "period"),
    [
        ("2026-12-31T22:59:59+00:00", "quarter", "2026-Q4"),  # 23:59:59 in Amsterdam (CET)
        ("2026-12-31T23:00:00+00:00", "quarter", None),  # 1 January 2027 in Amsterdam: after --to
        ("2026-03-31T21:59:59+00:00", "quarter", "2026-Q1"),  # 23:59:59 CEST
        ("2026-03-31T22:00:00+00:00", "quarter", "2026-Q2"),  # midnight CEST: 1 April
        ("2026-03-31T22:00:00+00:00", "month", "2026-04"),
        ("2025-12-31T23:00:00+00:00", "year", "2026"),  # already 2026 in the Netherlands
        ("2025-12-31T22:59:59+00:00", "year", None),  # still 2025: before --from
        ("2026-10-25T00:30:00+00:00", "month", "2026-10"),  # the night the clocks go back
    ],
)
def test_periods_follow_the_dutch_calendar(moment: str, by: str, period: str | None) -> None:
    log = Log()
    log.report("nla", "routed", datetime.fromisoformat(moment))
    window = Window(date(2026, 1, 1), date(2026, 12, 31), by)  # type: ignore[arg-type]
    found = [row[0] for row in log.tables(window)["reports"].rows]
    assert found == ([period] if period else [])


def test_partner_restricts_every_table_to_its_own_reports() -> None:
    log = Log()
    nla = [log.report("nla", "routed", NOON) for _ in range(11)]
    kvk = [log.report("kvk", "routed", NOON) for _ in range(2)]
    log.step(nla[0], "geselecteerd", "2026-02-11")
    log.step(kvk[0], "geselecteerd", "2026-02-11", partner="kvk")
    tables = log.tables(Window(YEAR.first, YEAR.last, "quarter", "nla"))
    assert rows(tables["reports"]) == [("2026-Q1", "nla", "routed", 11)]
    assert rows(tables["signals"]) == [("2026-Q1", "bd.detectie.mkb", "detectie", 11)]
    assert rows(tables["feedback"]) == [("2026-Q1", "nla", "geselecteerd", 1)]


def test_counts_under_ten_are_hidden_and_so_are_figures_over_fewer_records() -> None:
    log = Log()
    for _ in range(10):
        log.report("nla", "routed", NOON)
    for _ in range(9):
        log.report("nla", "rejected", NOON, "CONTRACT_VIOLATION")
    held = [log.report("kvk", "quarantined", NOON) for _ in range(3)]
    for item in held:
        log.close(item, "released", NOON + timedelta(days=1))
    tables = {name: hide_small(table) for name, table in log.tables().items()}
    assert rows(tables["reports"]) == [
        ("2026-Q1", "kvk", "quarantined", HIDDEN),
        ("2026-Q1", "nla", "rejected", HIDDEN),
        ("2026-Q1", "nla", "routed", 10),
    ]
    assert rows(tables["quarantine"]) == [("2026-Q1", HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)]
    for table in tables.values():  # no count from 1 to 9 anywhere, in any output
        for row in table.rows:
            assert not any(isinstance(cell, int) and 0 <= cell < 10 for cell in row), row
    csv = to_csv(list(tables.values()))
    assert "reports,2026-Q1,partner=nla;outcome=rejected,count,<10" in csv
    assert to_json(YEAR, list(tables.values()), 22)["tables"]["reports"]["rows"][2]["count"] == 10


def test_the_partner_summary_is_a_cloudevent_with_a_stable_id() -> None:
    window = Window(date(2026, 1, 1), date(2026, 3, 31), "month", "nla")
    log = Log()
    log.report("nla", "routed", NOON)
    tables = [hide_small(t) for t in log.tables(window).values()]
    first = summary_event(window, tables, "urn:gkt", NOON)
    again = summary_event(window, tables, "urn:gkt", NOON + timedelta(days=1))
    assert first["type"] == SUMMARY_TYPE
    assert first["id"] == again["id"]
    assert first["data"]["partner"] == "nla"
    assert first["data"]["tabellen"]["reports"]["rows"] == [
        {"period": "2026-02", "partner": "nla", "outcome": "routed", "count": HIDDEN}
    ]
    other = summary_event(Window(window.first, window.last, "month", "kvk"), tables, "urn:gkt", NOON)
    assert other["id"] != first["id"]


# Any record: from Kafka the counter reads a record before the verifier has refused a forged log


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
_NAMES = ["chain", "outcome", "inbound", "reasons", "destination", "review", "versions", "feedback", "x"]
_VALUES = st.one_of(
    _JSON,
    st.sampled_from(["routed", "rejected", "quarantined", "released", "discarded", "recorded", "gkt.in.nla/0"]),
    st.fixed_dictionaries(
        {
            "timestamp": st.sampled_from(
                ["2026-02-10T12:00:00Z", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-14:00", "2026-02-10"]
            )
        }
    ),
)


@settings(max_examples=300, deadline=None)
@given(records=st.lists(st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=9), max_size=6))
def test_any_record_is_counted_or_left_out_and_never_fails(records: list[dict[str, Any]]) -> None:
    counter = FigureCounter(YEAR)
    for record in records:
        counter.add(record)
    for table in counter.tables():
        for row in table.rows:
            assert len(row) == len(table.columns)
    to_csv(counter.tables())  # every output can be rendered
