"""What a gateway process rebuilds from ``gkt.audit`` at start and keeps current: nothing is kept on disk.

The duplicate memory (first decisions per source and id), the quarantine
(items and verdicts) and the client memory (signals per client, by keyed
hash) are all read from the same records, in any order of chains; a process
that takes over a partition knows what its previous owner decided.
"""

from typing import Any

from contracts.jsonio import to_millis
from gateway.audit.index import AuditIndex
from gateway.review.state import ReviewState
from gateway.review.verdict import parse_item
from gateway.selection.history import ClientHistory
from gateway.selection.key import ClientKey


class AuditMemories:
    def __init__(self, client_key: ClientKey) -> None:
        self.index = AuditIndex()
        self.review = ReviewState()
        self.clients = ClientHistory(client_key)

    def apply(self, record: dict[str, Any]) -> None:
        """Take one audit record as read from the log."""
        self.index.apply(record)
        self.review.apply(record)
        self.clients.memory.apply(record, self.held_since)

    def held_since(self, item: str) -> int | None:
        return held_since(self.review, item)


def held_since(review: ReviewState, item: str) -> int | None:
    """When the held report ``item`` names was received (ms), as its quarantine decision in the log says."""
    position = parse_item(item)
    held = review.known(position) if position is not None else None
    received = held.received if held is not None else None
    return to_millis(received) if received is not None else None
