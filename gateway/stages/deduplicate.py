"""Stage 3, deduplicate: the same sender and id decided before.

Only authenticated events get here, so nobody can block a partner's report by
sending garbage with its id first. The memory is the service's (rebuilt from
the audit log); this stage only asks it.
"""

from dataclasses import dataclass
from typing import Protocol

from gateway.inbound import CloudEvent, Position
from gateway.reasons import Reason, ReasonCode


@dataclass(frozen=True, slots=True)
class Original:
    """Where a report was first decided, and the digest of its bytes there (None until the log shows it)."""

    position: Position
    digest: str | None = None


class DedupMemory(Protocol):
    """Where each ``(source, id)`` was first decided."""

    def first(self, source: str, event_id: str) -> Original | None: ...


class NoMemory:
    """No earlier report: ``gkt check`` offline, and a held report decided again as itself."""

    def first(self, source: str, event_id: str) -> None:
        return None


def deduplicate(event: CloudEvent, memory: DedupMemory, here: Position) -> tuple[list[Reason], Original | None]:
    original = memory.first(event.source, event.id)
    if original is None or original.position == here:
        return [], None
    return [Reason(ReasonCode.DUPLICATE, "/id", "this source and id were received before")], original
