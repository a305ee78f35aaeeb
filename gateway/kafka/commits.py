"""When the consume loop commits: audited offsets are held and committed together, at most every
``every_s`` seconds under load, and at once when the loop is idle, before a rebalance and at stop.

G1 rests on the chain heads, not on commits: after a crash the next owner reads the records since
the last commit again and skips those its audit log has (docs/architecture.md). A commit per batch,
about a hundred a second at 1,000 reports a second, costs a broker round trip in the loop and CPU on
both sides for nothing more; committing every half second keeps what a restart reads again small.
"""

import time
from collections.abc import Callable, Collection

Offsets = dict[tuple[str, int], int]  # (topic, partition) -> the next offset to read

COMMIT_EVERY_S = 0.5


class HeldCommits:
    def __init__(self, every_s: float = COMMIT_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._every_s = every_s
        self._clock = clock
        self._held: Offsets = {}
        self._committed_at: float | None = None

    def add(self, offsets: Offsets) -> None:
        """Offsets whose records are decided and audited (a later offset of a partition replaces an earlier)."""
        self._held.update(offsets)

    def take(self, *, now: bool, owned: Collection[tuple[str, int]]) -> Offsets:
        """What to commit: if ``now`` or ``every_s`` has passed since the last take, everything held of the
        ``owned`` partitions; else nothing.

        Held offsets of a partition no longer owned are dropped: its next owner reads those records again
        and skips them by the chain head, and committing them would fail the whole commit.
        """
        if not self._held:
            return {}
        at = self._clock()
        if not now and self._committed_at is not None and at - self._committed_at < self._every_s:
            return {}
        taken, self._held = self._held, {}
        self._committed_at = at
        return {partition: offset for partition, offset in taken.items() if partition in owned}
