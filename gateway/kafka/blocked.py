"""Partitions that wait at a batch nobody can decode (spec/wire.md, "Partners' Kafka clients").

A broker may hand out a record batch that cannot be read: a corrupt one, or a
codec this process does not have. aiokafka raises on it for the whole fetch, so
every partition of the consumer would stop, after every restart. The fetcher's
records (``gateway.kafka.lenient_records``) stop that partition's records at the
batch instead and report it here; the consumer then pauses the partition, so
it waits at that offset (never skipped), and tries again every
``RETRY_SECONDS``, while every other partition goes on.

One log line names topic, partition and offset when a partition blocks (and one
when it moves again), and ``gkt_partition_blocked{topic,partition}`` is 1 while
it waits: docker/monitoring/alerts.yml fires on it.
"""

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from gateway.metrics import PARTITION_BLOCKED

log = structlog.get_logger("gkt.kafka")
RETRY_SECONDS = 30.0

TopicPartitionKey = tuple[str, int]


class _Pausable(Protocol):
    """What of an aiokafka consumer the partitions here need (its TopicPartition is a named tuple)."""

    def assignment(self) -> Iterable[TopicPartitionKey]: ...
    def paused(self) -> Iterable[TopicPartitionKey]: ...
    def pause(self, *partitions: TopicPartitionKey) -> None: ...
    def resume(self, *partitions: TopicPartitionKey) -> None: ...


@dataclass(slots=True)
class _Block:
    offset: int
    retry_at: float


class BlockedPartitions:
    """Every partition of this process that waits at an undecodable batch, by (topic, partition)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, retry_seconds: float = RETRY_SECONDS) -> None:
        self._clock = clock
        self._retry_seconds = retry_seconds
        self._blocks: dict[TopicPartitionKey, _Block] = {}

    def report(self, topic: str, partition: int, offset: int, error: BaseException) -> None:
        """The fetcher met a batch at ``offset`` that it cannot decode (called from aiokafka's fetcher)."""
        key = (topic, partition)
        known = self._blocks.get(key)
        if known is None or known.offset != offset:
            # The error's type only: its message may quote the batch's bytes.
            log.error(
                "partition_blocked",
                topic=topic,
                partition=partition,
                offset=offset,
                error=type(error).__name__,
                effect="this partition waits at this offset; every other partition goes on",
                hint="the broker holds a record batch that cannot be decoded; see docs/operations.md",
            )
            PARTITION_BLOCKED.labels(topic, str(partition)).set(1)
        self._blocks[key] = _Block(offset, self._clock() + self._retry_seconds)

    def hold(self, consumer: _Pausable) -> None:
        """Pause this consumer's blocked partitions; resume those due to try their batch again."""
        if not self._blocks:
            return
        now = self._clock()
        paused = {(tp[0], tp[1]) for tp in consumer.paused()}
        for tp in consumer.assignment():
            key = (tp[0], tp[1])
            block = self._blocks.get(key)
            if block is None:
                continue
            if block.retry_at <= now and key in paused:
                consumer.resume(tp)  # the next fetch tries the batch again; report() pauses it anew if it fails
            elif block.retry_at > now and key not in paused:
                consumer.pause(tp)

    def fetched(self, consumer: _Pausable, batches: Mapping[Any, Sequence[Any]]) -> None:
        """After every fetch of ``consumer`` (its ``getmany`` answer): the partitions that delivered records are
        past any block, and the blocked ones are paused or tried again."""
        for tp, records in batches.items():
            if records:
                self.delivered(tp.topic, tp.partition, records[-1].offset)
        self.hold(consumer)

    def delivered(self, topic: str, partition: int, offset: int) -> None:
        """A record at ``offset`` was read: a block at or before it is over."""
        key = (topic, partition)
        block = self._blocks.get(key)
        if block is not None and offset >= block.offset:
            del self._blocks[key]
            PARTITION_BLOCKED.labels(topic, str(partition)).set(0)
            log.info("partition_unblocked", topic=topic, partition=partition, offset=offset)

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        """Partitions this process no longer reads (a rebalance moved them): their next owner reports them."""
        for tp in partitions:
            key = (tp[0], tp[1])
            if self._blocks.pop(key, None) is not None:
                PARTITION_BLOCKED.labels(key[0], str(key[1])).set(0)

    def blocked(self) -> dict[TopicPartitionKey, int]:
        """Each waiting partition and the offset it waits at."""
        return {key: block.offset for key, block in self._blocks.items()}


BLOCKED = BlockedPartitions()
"""The process's one registry: aiokafka's fetcher knows no consumer, so every consumer of the process shares it
(a partition is read by one consumer of a process at a time)."""
