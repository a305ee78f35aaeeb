"""One team's step on a signal as it arrives on ``bd.terugkoppeling``: read strictly, worded without quoting it.

The value is small JSON (spec/selection.md, "Feedback from detection").
Anything else is ``FEEDBACK_INVALID``; the details name our own field names
only, never a value or a member name the sender chose (G7).
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, get_args

from contracts.team_book import TEAM_ID
from gateway.messages import FeedbackRecord, FeedbackStatus
from gateway.signed_by import small_object

MAX_FEEDBACK_BYTES = 4_096  # a step is about a hundred bytes
STATUSES: tuple[FeedbackStatus, ...] = get_args(FeedbackStatus)
_FIELDS = ("signaalId", "status", "op", "team")
_SIGNAL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # the gateway's ids
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TEAM = re.compile(TEAM_ID)


class FeedbackFormatError(ValueError):
    """The value is not a feedback step; the message names a field of ours, never what was sent.

    ``readable``: what could still be read in our form, for the audit record of the refusal.
    """

    def __init__(self, message: str, readable: "Readable | None" = None) -> None:
        super().__init__(message)
        self.readable = readable if readable is not None else Readable()


@dataclass(frozen=True, slots=True)
class FeedbackStep:
    signal_id: str
    status: FeedbackStatus
    on: date  # ``op``: the day of the step
    team: str

    @property
    def readable(self) -> "Readable":
        return Readable(self.signal_id, self.status, self.on, self.team)

    def as_json(self) -> FeedbackRecord:
        """The value a team signs (``gkt feedback send``)."""
        return {"signaalId": self.signal_id, "status": self.status, "op": self.on.isoformat(), "team": self.team}


@dataclass(frozen=True, slots=True)
class Readable:
    """What could be read of a step, each member in our form or None: what its audit record may keep."""

    signal_id: str | None = None
    status: FeedbackStatus | None = None
    on: date | None = None
    team: str | None = None


def read_step(value: bytes | None) -> FeedbackStep:
    """The step in ``value``; raises ``FeedbackFormatError`` saying which rule it breaks."""
    body = small_object(value, MAX_FEEDBACK_BYTES, FeedbackFormatError)
    readable = _readable(body)
    if any(name not in _FIELDS for name in body):
        raise FeedbackFormatError(f"a member other than {', '.join(_FIELDS)}", readable)
    if readable.signal_id is None:
        raise FeedbackFormatError("signaalId must be a signal id (a lower-case UUID)", readable)
    if readable.status is None:
        raise FeedbackFormatError(f"status must be one of {', '.join(STATUSES)}", readable)
    if readable.on is None:
        raise FeedbackFormatError("op must be a date, YYYY-MM-DD", readable)
    if readable.team is None:
        raise FeedbackFormatError("team is not a team id", readable)
    return FeedbackStep(readable.signal_id, readable.status, readable.on, readable.team)


def _readable(body: dict[str, Any]) -> Readable:
    """Each member of ``body`` that has our form, else None."""
    signal_id, status, on, team = (body.get(name) for name in _FIELDS)
    return Readable(
        signal_id if isinstance(signal_id, str) and _SIGNAL_ID.fullmatch(signal_id) else None,
        next((s for s in STATUSES if s == status), None),
        _date(on),
        team if isinstance(team, str) and _TEAM.fullmatch(team) else None,
    )


def _date(value: object) -> date | None:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
