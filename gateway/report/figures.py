"""The programme's figures from the audit log (spec/selection.md, "Figures"): counts per period, computed in one
pass over records in any order of chains.

Pure: no Kafka, no files, no clock. ``FigureCounter.add`` takes each verified
audit record; ``tables`` gives the figures as plain tables (``Table``), which
every output (rich, JSON, CSV, HTML, the published summary) renders alike.
What each figure counts and by which moment it falls in a period is in
docs/report.md. Memory: aggregates, plus 16 bytes and a time for every signal
(the feedback figures join steps to their signal's time of receipt).
"""

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from contracts.jsonio import from_millis
from gateway.audit.received import received_ms
from gateway.selection.clients import signal_id_bytes
from gateway.topics import INBOUND_PREFIX
from routing.calendar import NETHERLANDS

Period = Literal["month", "quarter", "year"]
Cell = str | int | float | None
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Table:
    """One table: a name for scripts, a title for people, its columns, and rows in that order."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    counts: tuple[str, ...]  # the columns that count records: these get the threshold (``<10``)
    sizes: tuple[str, ...] = ()  # columns that are figures over a number of records (medians): hidden under 10

    @property
    def figures(self) -> tuple[str, ...]:
        """The columns that hold numbers (counts and medians), in column order."""
        return tuple(c for c in self.columns if c in self.counts or c in self.sizes)

    @property
    def keys(self) -> tuple[str, ...]:
        """What a row is about besides its period: partner, outcome, destination…"""
        return tuple(c for c in self.columns if c not in self.figures and c != "period")


@dataclass(frozen=True, slots=True)
class Window:
    """What to count: Dutch calendar days ``first`` to ``last`` (both included), by ``by``, for one partner or all."""

    first: date
    last: date
    by: Period = "quarter"
    partner: str | None = None
    prefix: str = ""  # the deployment's topic prefix

    def period_of(self, moment_ms: int | None) -> str | None:
        """The period a moment falls in (Dutch date), or None when outside the window or undated."""
        if moment_ms is None:
            return None
        return self.period_of_day(from_millis(moment_ms).astimezone(NETHERLANDS).date())

    def period_of_day(self, day: date | None) -> str | None:
        if day is None or not self.first <= day <= self.last:
            return None
        if self.by == "month":
            return f"{day.year}-{day.month:02d}"
        if self.by == "quarter":
            return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        return str(day.year)

    def counts_partner(self, partner: str | None) -> bool:
        return self.partner is None or partner == self.partner


@dataclass
class FigureCounter:
    """Feed verified audit records (``add``), any order; then read ``tables``."""

    window: Window
    reports: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # period, partner, outcome
    rejections: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # period, partner, code
    signals: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # period, destination, vervolg
    # Quarantine: items' times of receipt and partners; closing verdicts (item, outcome, verdict's time).
    _held: dict[str, tuple[int, str]] = field(default_factory=dict)
    _closed: list[tuple[str, str, int]] = field(default_factory=list)
    # Feedback: every signal's receipt time and partner; the steps recorded (signal, status, partner, op).
    _signal_at: dict[bytes, tuple[int, str]] = field(default_factory=dict)
    _steps: set[tuple[bytes, str, str, date]] = field(default_factory=set)
    _released: list[tuple[bytes, str, str]] = field(default_factory=list)  # signal, item, partner

    def add(self, record: Mapping[str, Any]) -> None:
        """Count one record. Any JSON object is taken without failing (from Kafka a forged one may come before
        the verifier refuses the log); what is not in the gateway's form is left out."""
        outcome, received = record.get("outcome"), received_ms(record)
        if not isinstance(outcome, str) or received is None:
            return
        chain = str(record.get("chain"))
        if "feedback" in record:
            self._feedback(_member(record, "feedback"), outcome)
        elif "review" in record:
            self._verdict(record, outcome, received)
        elif chain.startswith(self.window.prefix + INBOUND_PREFIX):
            self._report(record, outcome, received, chain)

    def _report(self, record: Mapping[str, Any], outcome: str, received: int, chain: str) -> None:
        partner = chain.rsplit("/", 1)[0].removeprefix(self.window.prefix + INBOUND_PREFIX)
        if outcome == "quarantined":
            inbound = _member(record, "inbound")
            self._held[f"{inbound.get('topic')}/{inbound.get('partition')}/{inbound.get('offset')}"] = (
                received,
                partner,
            )
        if outcome == "routed":
            signal_id = self._signal(record, received, partner)
            if signal_id is not None:
                self._signal_at[signal_id] = (received, partner)
        period = self.window.period_of(received)
        if period is None or not self.window.counts_partner(partner):
            return
        self.reports[period, partner, outcome] += 1
        if outcome == "rejected":
            reasons = record.get("reasons")
            codes = {str(r.get("code")) for r in reasons if isinstance(r, dict)} if isinstance(reasons, list) else ()
            for code in codes:
                self.rejections[period, partner, code] += 1

    def _signal(self, record: Mapping[str, Any], written: int, partner: str) -> bytes | None:
        """A signal written at ``written`` (a routed report, a release) counted in its period; its id."""
        destination = _member(record, "destination")
        period = self.window.period_of(written)
        if period is not None and self.window.counts_partner(partner):
            name = str(destination.get("topic") or "").removeprefix(self.window.prefix)
            self.signals[period, name, str(destination.get("vervolg") or "-")] += 1
        return signal_id_bytes(destination.get("signal_id"))

    def _verdict(self, record: Mapping[str, Any], outcome: str, received: int) -> None:
        if outcome not in ("released", "discarded"):
            return
        item = str(_member(record, "review").get("item"))
        self._closed.append((item, outcome, received))
        if outcome == "released":
            partner = str(_member(record, "versions").get("agreement") or "").split(":", 1)[0]
            signal_id = self._signal(record, received, partner)
            if signal_id is not None:  # its report's time of receipt is the held item's (``tables``)
                self._released.append((signal_id, item, partner))

    def _feedback(self, feedback: Mapping[str, Any], outcome: str) -> None:
        signal_id = signal_id_bytes(feedback.get("signal_id"))
        if outcome != "recorded" or signal_id is None:
            return
        try:
            on = date.fromisoformat(str(feedback.get("op")))
        except ValueError:
            return
        self._steps.add((signal_id, str(feedback.get("status")), str(feedback.get("partner")), on))

    def tables(self) -> list[Table]:
        for signal_id, item, partner in self._released:  # a released signal's receipt is its held report's
            held = self._held.get(item)
            if held is not None:
                self._signal_at.setdefault(signal_id, (held[0], partner))
        return [
            _table("reports", "Reports received, per partner and outcome", ("partner", "outcome"), self.reports),
            _table(
                "rejections", "Rejected reports, per partner and reason code", ("partner", "reason"), self.rejections
            ),
            _table("signals", "Signals, per destination and vervolg", ("destination", "vervolg"), self.signals),
            self._quarantine(),
            self._feedback_table(),
            self._selection_time(),
        ]

    def _quarantine(self) -> Table:
        """Released and discarded items per period (by the closing verdict's receipt), and how long they waited."""
        closed: dict[str, Counter[str]] = {}
        waits: dict[str, list[float]] = {}
        for item, outcome, at in self._closed:
            held = self._held.get(item)
            period = self.window.period_of(at)
            if held is None or period is None or not self.window.counts_partner(held[1]):
                continue
            closed.setdefault(period, Counter())[outcome] += 1
            waits.setdefault(period, []).append((at - held[0]) / DAY_MS)
        rows: list[tuple[Cell, ...]] = []
        for period in sorted(closed):
            days = waits[period]
            rows.append((period, closed[period]["released"], closed[period]["discarded"], len(days),
                         round(statistics.median(days), 1), round(max(days), 1)))  # fmt: skip
        return Table(
            "quarantine",
            "Quarantine: items released and discarded, and days they waited",
            ("period", "released", "discarded", "closed", "median_days", "longest_days"),
            rows,
            counts=("released", "discarded", "closed"),
            sizes=("median_days", "longest_days"),
        )

    def _feedback_table(self) -> Table:
        """Per partner: how many of its signals reached each status (each signal once per status), by ``op``."""
        reached: set[tuple[str, str, str, bytes]] = set()
        for signal_id, status, partner, on in self._steps:
            period = self.window.period_of_day(on)
            if period is not None and self.window.counts_partner(partner):
                reached.add((period, partner, status, signal_id))
        counted = Counter((period, partner, status) for period, partner, status, _ in reached)
        return _table("feedback", "Feedback: signals per partner that reached each status", ("partner", "status"),
                      counted, column="signals")  # fmt: skip

    def _selection_time(self) -> Table:
        """Per partner: the median days from a signal's receipt to its first ``geselecteerd`` (period: that day)."""
        first: dict[bytes, tuple[date, str]] = {}
        for signal_id, status, partner, on in self._steps:
            if status == "geselecteerd" and (signal_id not in first or on < first[signal_id][0]):
                first[signal_id] = (on, partner)
        days: dict[tuple[str, str], list[float]] = {}
        for signal_id, (on, partner) in first.items():
            signal = self._signal_at.get(signal_id)
            period = self.window.period_of_day(on)
            if signal is None or period is None or not self.window.counts_partner(partner):
                continue
            received = from_millis(signal[0]).astimezone(NETHERLANDS).date()
            days.setdefault((period, partner), []).append(float((on - received).days))
        rows: list[tuple[Cell, ...]] = [
            (period, partner, len(values), round(statistics.median(values), 1))
            for (period, partner), values in sorted(days.items())
        ]
        return Table(
            "selection_time",
            "Feedback: days from signal to geselecteerd, median per partner",
            ("period", "partner", "signals", "median_days"),
            rows,
            counts=("signals",),
            sizes=("median_days",),
        )


def _table(
    name: str, title: str, keys: tuple[str, str], counter: Counter[tuple[str, str, str]], column: str = "count"
) -> Table:
    rows: list[tuple[Cell, ...]] = [(*key, count) for key, count in sorted(counter.items())]
    return Table(name, title, ("period", *keys, column), rows, counts=(column,))


def _member(record: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = record.get(name)
    return value if isinstance(value, dict) else {}


def window_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The window as moments: from the start of ``first`` to the end of ``last``, Dutch time, in UTC."""
    start = datetime.combine(first, datetime.min.time(), NETHERLANDS).astimezone(UTC)
    end = datetime.combine(last, datetime.max.time(), NETHERLANDS).astimezone(UTC)
    return start, end
