"""Stage 3, deduplicate: the same sender and id decided before.

Only authenticated events get here, so nobody can block a partner's report by
sending garbage with its id first. The memory is the service's (rebuilt from
the audit log); this stage only asks it.
"""

from typing import Protocol

from gateway.inbound import CloudEvent, Position
from gateway.reasons import Reason, ReasonCode


class DedupMemory(Protocol):
    """Where each ``(source, id)`` was first decided."""

    def first(self, source: str, event_id: str) -> Position | None: ...


def deduplicate(event: CloudEvent, memory: DedupMemory, here: Position) -> tuple[list[Reason], Position | None]:
    original = memory.first(event.source, event.id)
    if original is None or original == here:
        return [], None
    return [Reason(ReasonCode.DUPLICATE, "/id", "this source and id were received before")], original
