"""One reviewer's verdict as it arrives on ``gkt.review``: read strictly, worded without quoting it.

The value is small JSON (spec/review.md, "Verdict"). Anything else is
``VERDICT_INVALID``; the details name our own field names only, never a value
or a member name the sender chose (G7).
"""

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from contracts.reviewer_book import REVIEWER_ID
from gateway.inbound import Position
from gateway.messages import ReviewVerdict
from gateway.signed_by import small_object
from validators.wire import parse_rfc3339

MAX_VERDICT_BYTES = 16_384  # a verdict is a few hundred bytes; grounds are at most 1,000 characters
MAX_GROUNDS = 1000
_ITEM = re.compile(r"([A-Za-z0-9._-]{1,249})/([0-9]{1,9})/([0-9]{1,19})")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_REVIEWER = re.compile(REVIEWER_ID)
_FIELDS = ("item", "event_digest", "verdict", "grounds", "reviewer", "at")


class VerdictKind(StrEnum):
    RELEASE = "release"
    DISCARD = "discard"
    RECHECK = "recheck"

    @property
    def literal(self) -> Literal["release", "discard", "recheck"]:
        return _LITERAL[self]


_LITERAL: dict[VerdictKind, Literal["release", "discard", "recheck"]] = {
    VerdictKind.RELEASE: "release",
    VerdictKind.DISCARD: "discard",
    VerdictKind.RECHECK: "recheck",
}


class VerdictFormatError(ValueError):
    """The value is not a verdict; the message names a field of ours, never what was sent."""


@dataclass(frozen=True, slots=True)
class Verdict:
    item: Position
    event_digest: str
    kind: VerdictKind
    grounds: str | None
    reviewer: str
    at: datetime

    def as_json(self) -> ReviewVerdict:
        """The value a reviewer signs (``gkt review release``…)."""
        body: ReviewVerdict = {
            "item": str(self.item),
            "event_digest": self.event_digest,
            "verdict": self.kind.literal,
            "reviewer": self.reviewer,
            "at": self.at.isoformat(),
        }
        if self.grounds is not None:
            body["grounds"] = self.grounds
        return body


def parse_item(text: str) -> Position | None:
    """``<topic>/<partition>/<offset>`` as a position, or None."""
    match = _ITEM.fullmatch(text)
    if match is None:
        return None
    return Position(match[1], int(match[2]), int(match[3]))


def read_verdict(value: bytes | None) -> Verdict:
    """The verdict in ``value``; raises ``VerdictFormatError`` saying which rule it breaks."""
    body = small_object(value, MAX_VERDICT_BYTES, VerdictFormatError)
    if any(name not in _FIELDS for name in body):
        raise VerdictFormatError(f"a member other than {', '.join(_FIELDS)}")
    kind = _text(body, "verdict")
    if kind not in tuple(VerdictKind):
        raise VerdictFormatError("verdict must be release, discard or recheck")
    item = parse_item(_text(body, "item"))
    if item is None:
        raise VerdictFormatError("item must be <topic>/<partition>/<offset>")
    if not _DIGEST.fullmatch(_text(body, "event_digest")):
        raise VerdictFormatError("event_digest must be sha256:<64 hex digits>")
    if not _REVIEWER.fullmatch(_text(body, "reviewer")):
        raise VerdictFormatError("reviewer is not a reviewer id")
    at = parse_rfc3339(_text(body, "at"))
    if at is None:
        raise VerdictFormatError("at must be an RFC 3339 time with an offset")
    grounds = body.get("grounds")
    if grounds is not None and (not isinstance(grounds, str) or not 1 <= len(grounds) <= MAX_GROUNDS):
        raise VerdictFormatError(f"grounds must be 1 to {MAX_GROUNDS} characters")
    if grounds is None and kind != VerdictKind.RECHECK:
        raise VerdictFormatError(f"grounds are required for {kind}")
    return Verdict(item, body["event_digest"], VerdictKind(kind), grounds, body["reviewer"], at)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise VerdictFormatError(f"{name} must be a string")
    return value
