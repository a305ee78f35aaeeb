"""The demo's feedback story (spec/selection.md): detection teams say what became of a few signals, and the
quarter's figures are read back from the verified audit log, as ``gkt report`` reads them.

Three steps on the first two routed NLA signals (mkb-oost selects one and starts an investigation, mkb-west
does not select the other), and one step on a signal the gateway never wrote, which must be refused.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contracts.jsonio import strict_loads
from gateway.demo import samples as s
from gateway.kafka.follower import read_all
from gateway.pipeline import Rules
from gateway.report.figures import FigureCounter, Table, Window
from gateway.signed_send import Signed, send_signed
from routing.calendar import day_of_receipt

NEVER_WRITTEN = "0b9c2f1e-7d3a-5c11-9e4b-2a6f8d0c4e17"


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    team: str
    status: str
    signal: str  # which signal, for people: "NLA signal 1"
    expected: str  # recorded or rejected
    outcome: str | None

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.expected


async def give_feedback(bootstrap: str, rules: Rules, signal_ids: list[str]) -> list[FeedbackRow]:
    """The steps, each sent and its audit record awaited; what the gateway decided of each."""
    today = day_of_receipt(datetime.now(UTC)).isoformat()
    plan = [
        ("mkb-oost", "geselecteerd", signal_ids[0], "NLA signal 1", "recorded"),
        ("mkb-oost", "onderzoek_gestart", signal_ids[0], "NLA signal 1", "recorded"),
        ("mkb-west", "niet_geselecteerd", signal_ids[1], "NLA signal 2", "recorded"),
        ("mkb-west", "geselecteerd", NEVER_WRITTEN, "a signal the gateway never wrote", "rejected"),
    ]
    rows = []
    for team, status, signal_id, label, expected in plan:
        value = s.feedback(signal_id, status, today, team)
        signed = Signed(rules.topics.terugkoppeling, value, signal_id.encode(), s.sign_feedback(value, team).decode(),
                        "the step", "-", "-")  # fmt: skip
        _, audit = await send_signed(bootstrap, rules.topics, signed, 60.0)
        rows.append(FeedbackRow(team, status, label, expected, str(audit.get("outcome"))))
    return rows


async def quarter_figures(bootstrap: str, rules: Rules) -> tuple[Window, list[Table]]:
    """This quarter's figures from the audit log (verified by the demo before it prints them)."""
    today = day_of_receipt(datetime.now(UTC))
    first_month = (today.month - 1) // 3 * 3 + 1
    after = date(today.year + (first_month == 10), (first_month + 2) % 12 + 1, 1)  # the next quarter's first day
    window = Window(date(today.year, first_month, 1), after - timedelta(days=1), "quarter", prefix=rules.topics.prefix)
    counter = FigureCounter(window)
    for record in await read_all(bootstrap, rules.topics.audit):
        parsed: Any = strict_loads(record.value or b"null")
        if isinstance(parsed, dict):
            counter.add(parsed)
    return window, counter.tables()
