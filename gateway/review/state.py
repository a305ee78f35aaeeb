"""What the audit log says about quarantine: which items are open, and the verdicts given on each.

State comes from Kafka, never from a local file (spec/review.md): the
service rebuilds it from ``gkt.audit`` at start and keeps it current, so any
process of the group can take over a review partition; ``gkt review list``
builds the same from the same log. Records of different chains arrive in no
fixed order, so applying is order-free and idempotent: a verdict read before
the quarantine decision it is about still counts, and an item once closed
never opens again.
"""

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.inbound import Position
from gateway.reasons import Outcome
from gateway.review.verdict import VerdictKind, parse_item


@dataclass(frozen=True, slots=True)
class Given:
    """A verdict the gateway took (not a rejected one): who, what, and where its audit record sits."""

    reviewer: str
    kind: VerdictKind
    chain: str
    seq: int
    outcome: Outcome


@dataclass
class Item:
    """One quarantined report, as its audit record describes it (digests and codes, no content)."""

    position: Position
    event_id: str | None
    source: str | None
    digest: str
    reasons: tuple[str, ...]
    received_at: str | None
    decided_at: str
    chain: str
    seq: int
    versions: dict[str, Any] = field(default_factory=dict)

    @property
    def received(self) -> datetime | None:
        return datetime.fromisoformat(self.received_at) if self.received_at else None


class ReviewState:
    def __init__(self) -> None:
        self._items: dict[Position, Item] = {}
        self._closed: dict[Position, Outcome] = {}
        self._given: dict[Position, dict[tuple[str, int], Given]] = {}

    def apply(self, record: Mapping[str, Any]) -> None:
        """Take one audit record as read from the log (any chain, any order)."""
        review = record.get("review")
        if isinstance(review, dict):
            self._apply_verdict(record, review)
        elif record.get("outcome") == Outcome.QUARANTINED.value:
            position = Position.of(record["inbound"])
            event = record.get("event") or {}
            self._items[position] = Item(
                position=position,
                event_id=event.get("id"),
                source=event.get("source"),
                digest=str(event.get("digest")),
                reasons=tuple(str(r.get("code")) for r in record.get("reasons") or []),
                received_at=record["inbound"].get("timestamp"),
                decided_at=str(record.get("decided_at")),
                chain=str(record["chain"]),
                seq=int(record["seq"]),
                versions=dict(record.get("versions") or {}),
            )

    def _apply_verdict(self, record: Mapping[str, Any], review: Mapping[str, Any]) -> None:
        outcome = Outcome(str(record.get("outcome")))
        item = parse_item(str(review.get("item")))
        if outcome is Outcome.REJECTED or item is None:
            return  # a refused verdict changes nothing
        given = Given(
            str(review["reviewer"]),
            VerdictKind(str(review["verdict"])),
            str(record["chain"]),
            int(record["seq"]),
            outcome,
        )
        self._given.setdefault(item, {})[(given.chain, given.seq)] = given
        if outcome in (Outcome.RELEASED, Outcome.DISCARDED):
            self._closed[item] = outcome

    def item(self, position: Position) -> Item | None:
        """The item if it is in quarantine and still open."""
        if position in self._closed:
            return None
        return self._items.get(position)

    def closed(self, position: Position) -> Outcome | None:
        return self._closed.get(position)

    def known(self, position: Position) -> Item | None:
        """The item whether open or closed (for people: ``gkt review show``)."""
        return self._items.get(position)

    def given(self, position: Position) -> list[Given]:
        """Verdicts taken on the item, in the order of their audit records."""
        return sorted(self._given.get(position, {}).values(), key=lambda g: (g.chain, g.seq))

    def all_items(self) -> list[Item]:
        return list(self._items.values())

    def open_items(self) -> list[Item]:
        return sorted(
            (item for position, item in self._items.items() if position not in self._closed),
            key=lambda item: (item.received_at or "", str(item.position)),
        )

    def _open(self) -> Iterator[Item]:
        return (item for position, item in self._items.items() if position not in self._closed)

    def open_by_reason(self) -> Counter[str]:
        """Open items per reason code (an item held for two reasons counts under both)."""
        return Counter(code for item in self._open() for code in set(item.reasons))

    def oldest_received(self) -> datetime | None:
        """When the longest-waiting open item arrived (for ``gkt_quarantine_oldest_seconds``; no sorting)."""
        return min((moment for item in self._open() if (moment := item.received) is not None), default=None)
