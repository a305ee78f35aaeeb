"""When the gateway writes checkpoints (spec/witness.md): at most every ``checkpoint_seconds``, and at stop.

A checkpoint names only records that are on Kafka: the service reports the
chain heads of each acknowledged write of audit records (``written``), and a
checkpoint goes out with the next write, never before its records. All due
chains go in one write, so the gateway pays one extra write per period, not
one per chain. A chain that leaves this process (a rebalance) is checkpointed
and forgotten before it moves: its next owner's checkpoints must not be
followed by an older one of ours, which a witness would call a rollback.
"""

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

from gateway.audit.record import ChainHead
from gateway.outputs import OutMessage
from gateway.signing import Signer
from gateway.types import ChainId
from gateway.witness.checkpoint import Checkpoint, checkpoint_note


class CheckpointSchedule:
    def __init__(
        self,
        topic: str,
        origin: str,
        signer: Signer,
        every_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.topic, self.origin, self.signer = topic, origin, signer
        self.every = every_seconds
        self._clock, self._now = clock, now
        self._written: dict[ChainId, ChainHead] = {}  # each chain's head on Kafka
        self._checkpointed: dict[ChainId, ChainHead] = {}  # ... as its last checkpoint named it
        self._last = clock()

    def written(self, heads: Mapping[ChainId, ChainHead]) -> None:
        """These heads are acknowledged on ``gkt.audit``."""
        self._written.update(heads)

    def due(self, *, stopping: bool = False) -> list[OutMessage]:
        """Checkpoints of the chains that grew since their last one, once a period has passed (or at stop)."""
        if not stopping and self._clock() - self._last < self.every:
            return []
        self._last = self._clock()
        return self._messages(self._written)

    def leaving(self, chains: Iterable[ChainId]) -> list[OutMessage]:
        """Checkpoints of chains about to move to another process; then they are forgotten here."""
        heads = {chain: self._written[chain] for chain in chains if chain in self._written}
        messages = self._messages(heads)
        for chain in heads:
            self._written.pop(chain, None)
            self._checkpointed.pop(chain, None)
        return messages

    def _messages(self, heads: Mapping[ChainId, ChainHead]) -> list[OutMessage]:
        moment = self._now()
        messages = []
        for chain, head in heads.items():
            if self._checkpointed.get(chain) == head:
                continue
            note = checkpoint_note(Checkpoint.of(head, moment), self.origin, self.signer)
            messages.append(OutMessage(self.topic, chain.encode(), note))
            self._checkpointed[chain] = head
        return messages
