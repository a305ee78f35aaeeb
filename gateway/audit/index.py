"""What the audit log says so far: each chain's head, and who sent which report first.

Filled from ``gkt.audit`` at start and kept up to date by the service, this
is the memory that makes decisions exactly-once (G1: offsets already decided
are skipped) and duplicates detectable across restarts and partition moves.
"""

from typing import Any

from gateway.audit.received import received_ms
from gateway.audit.record import ChainHead
from gateway.inbound import Position
from gateway.reasons import ReasonCode, Stage
from gateway.stages.deduplicate import Original
from gateway.types import ChainId

_BEFORE_AUTHENTICATED = {Stage.READ, Stage.AUTHENTICATE}


def authenticated(record: dict[str, Any]) -> bool:
    """Whether the decision got past authentication: only those take part in deduplication."""
    if record.get("outcome") != "rejected":
        return True
    codes = [ReasonCode(reason["code"]) for reason in record.get("reasons", [])]
    return bool(codes) and all(code.stage not in _BEFORE_AUTHENTICATED for code in codes)


class AuditIndex:
    """Chain heads and first positions of ``(source, id)``; the service's DedupMemory."""

    def __init__(self) -> None:
        self._heads: dict[ChainId, ChainHead] = {}
        # (source, id) -> where it was first decided (and its digest), and its Kafka time (ms) for pruning
        self._first: dict[tuple[str, str], tuple[Original, int]] = {}

    def head(self, chain: ChainId) -> ChainHead:
        return self._heads.get(chain) or ChainHead.empty(chain)

    def first(self, source: str, event_id: str) -> Original | None:
        entry = self._first.get((source, event_id))
        return entry[0] if entry is not None else None

    def advance(self, head: ChainHead) -> None:
        """Take a head this process wrote itself (it skips reading its own chains back)."""
        if head.seq > self.head(head.chain).seq:
            self._heads[head.chain] = head

    def remember(
        self, source: str, event_id: str, position: Position, received_ms: int, digest: str | None = None
    ) -> None:
        """Note where ``(source, id)`` was first decided; ``digest`` when this is that first decision itself.

        Records of different chains come in any order: a duplicate's record may come before its
        original's, so the original's digest fills in later.
        """
        key = (source, event_id)
        known = self._first.get(key)
        if known is None or (digest is not None and known[0].position == position and known[0].digest is None):
            self._first[key] = (Original(position, digest), received_ms)

    def prune(self, before_ms: int) -> int:
        """Forget identities received before ``before_ms``; returns how many.

        Only safe past every agreement's ``max_event_age_days``: a report that
        old is ``EVENT_STALE`` before it reaches the duplicate check.
        """
        old = [key for key, (_, received_ms) in self._first.items() if received_ms < before_ms]
        for key in old:
            del self._first[key]
        return len(old)

    def apply(self, record: dict[str, Any]) -> None:
        """Take one audit record as read from the log (any chain, any order of chains)."""
        chain = ChainId(str(record["chain"]))
        current = self.head(chain)
        if int(record["seq"]) > current.seq:
            self._heads[chain] = current.next(record)
        event = record.get("event") or {}
        if authenticated(record) and event.get("source") and event.get("id"):
            original = record.get("original")
            position = Position.of(original or record["inbound"])
            # A duplicate's own time is later than its original's: keeping it longer is the safe side.
            digest = None if original else event.get("digest")
            self.remember(str(event["source"]), str(event["id"]), position, received_ms(record) or 0, digest)

    def __len__(self) -> int:
        return len(self._first)
