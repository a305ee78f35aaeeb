"""What a witness decides about a chain (spec/witness.md), with no Kafka in it.

A witness remembers, per chain, the last checkpoint it cosigned (size and head
hash). New checkpoints of the chain, each signed by the gateway, must not
shrink it (a rollback) nor name another hash at a size already seen (a fork);
and the chain's records, read from the audit log in order, must lead from the
remembered head to each new one: every ``seq`` next, every ``prev`` the hash
before it, every ``hash`` recomputing. Only then is the newest checkpoint
cosigned. The records are walked as they are read (``ChainWalk``), so catching
up on a long log holds one head per chain, not the log.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from gateway.audit.record import GENESIS
from gateway.audit.verify import Checked
from gateway.witness.checkpoint import Checkpoint, SignedCheckpoint


@dataclass(frozen=True, slots=True)
class Seen:
    """The last checkpoint a witness cosigned: where the chain must go on from."""

    size: int
    hash: str
    time: datetime | None = None  # the gateway's time in that checkpoint

    @classmethod
    def none(cls) -> "Seen":
        return cls(0, GENESIS)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a chain is refused for good: what the witness saw, and the two checkpoints that show it."""

    what: str
    checkpoint: SignedCheckpoint


def _size(checkpoint: Checkpoint) -> str:
    return f"{checkpoint.size} records, head {checkpoint.hash[:19]}…"


def order_refusal(seen: Seen, checkpoints: Iterable[SignedCheckpoint]) -> Refusal | None:
    """A checkpoint that shrinks the chain or forks it, against the cosigned one and those read before it.

    A smaller checkpoint the gateway wrote *before* the one that showed more records is no rollback: it
    is an old checkpoint read again (anyone who may write gkt.checkpoints can copy one, and records can
    arrive out of order). A rollback is the gateway saying, later, that the chain is shorter; dated
    earlier to pass as a copy, it still cannot be followed by a chain that extends the cosigned head.
    """
    known: dict[int, str] = {seen.size: seen.hash} if seen.size else {}
    largest, shown = seen.size, seen.time
    for signed in checkpoints:
        checkpoint = signed.checkpoint
        if checkpoint.size < largest:
            if shown is not None and checkpoint.time <= shown:
                continue  # an old checkpoint again
            what = f"rollback: the gateway signed {_size(checkpoint)} after it had shown {largest} records"
            return Refusal(what, signed)
        earlier = known.get(checkpoint.size)
        if earlier is not None and earlier != checkpoint.hash:
            what = f"fork: the gateway signed another head at {checkpoint.size} records ({checkpoint.hash[:19]}…)"
            return Refusal(what, signed)
        known[checkpoint.size] = checkpoint.hash
        if checkpoint.size > largest or shown is None or checkpoint.time > shown:
            largest, shown = checkpoint.size, checkpoint.time
    return None


@dataclass
class ChainWalk:
    """Follows one chain's records in log order from the cosigned head, noting the hash at each size that a
    new checkpoint names (``checkpoints``: the chain's new checkpoints, in log order)."""

    seen: Seen
    checkpoints: list[SignedCheckpoint]
    size: int = 0  # records followed so far: the chain is known up to seq size - 1
    hash: str = GENESIS
    at: dict[int, str] = field(default_factory=dict)  # size: head hash, at each size a checkpoint names
    offsets: dict[int, int] = field(default_factory=dict)  # size: the audit offset of the record at size - 1
    problem: str | None = None
    partition: int | None = None  # the audit partition the chain's records were read from

    def __post_init__(self) -> None:
        self.size, self.hash = self.seen.size, self.seen.hash
        self._wanted = {c.checkpoint.size for c in self.checkpoints if c.checkpoint.size > self.seen.size}

    def take(self, checked: Checked, offset: int) -> None:
        """One record of this chain, as read (any record: copies, strays and forgeries included)."""
        if self.problem is not None or checked.seq is None:
            return
        seq = checked.seq
        if seq == self.seen.size - 1 and seq == self.size - 1:
            if checked.hash != self.seen.hash or checked.content is not None:
                self.problem = f"the record at the cosigned size {self.seen.size} (seq {seq}) is not the one cosigned"
            return
        if seq < self.size:
            if seq == self.size - 1 and checked.hash != self.hash:
                self.problem = f"two different records at seq {seq}: the log forks"
            return  # before the cosigned head, or a copy of the record just followed
        if seq > self.size:
            self.problem = f"seq {seq} follows seq {self.size - 1}: records {self.size} to {seq - 1} are missing"
            return
        if checked.content is not None:
            self.problem = f"record seq {seq} was changed after it was written ({checked.content[1]})"
            return
        if checked.prev != self.hash:
            self.problem = f"record seq {seq} does not follow the chain the witness cosigned (prev differs)"
            return
        self.size, self.hash = seq + 1, str(checked.hash)
        if self.size in self._wanted:
            self.at[self.size], self.offsets[self.size] = self.hash, offset

    def judge(self) -> "SignedCheckpoint | Refusal | None":
        """The newest checkpoint to cosign, a refusal, or None when nothing new extends the cosigned head."""
        newest: SignedCheckpoint | None = None
        for signed in self.checkpoints:
            checkpoint = signed.checkpoint
            if checkpoint.size <= self.seen.size:
                continue  # the cosigned size itself: order_refusal compared it
            if self.problem is not None:
                return Refusal(f"the chain no longer extends: {self.problem}", signed)
            if checkpoint.size > self.size:
                what = (
                    f"truncated: the gateway signed {_size(checkpoint)}, and the log holds {self.size} that follow "
                    "the cosigned head"
                )
                return Refusal(what, signed)
            if self.at.get(checkpoint.size) != checkpoint.hash:
                what = f"fork: the log's record {checkpoint.size - 1} is not the head the gateway signed"
                return Refusal(what, signed)
            newest = signed
        return newest
