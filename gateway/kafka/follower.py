"""Reads a whole topic from its start and keeps following it: reference data, the audit log.

"Caught up" is judged from fetch responses, never from ListOffsets: tansu
answers ListOffsets "latest" wrongly, while the high watermark in a fetch
response is right there and on Apache Kafka alike.
"""

import asyncio
import contextlib
from collections.abc import Callable, Collection, Mapping
from typing import Any

import structlog
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from gateway.errors import BrokerError
from gateway.inbound import InboundRecord
from gateway.kafka.blocked import BLOCKED
from gateway.kafka.consumers import new_consumer
from gateway.kafka.records import plain
from gateway.metrics import FOLLOW_SKIPPED

log = structlog.get_logger("gkt.follower")


class TopicFollower:
    """Applies every record of ``topic`` (all partitions, from offset 0) to ``apply``.

    A record that ``apply`` cannot take (any exception) is skipped, counted
    (``gkt_follow_skipped_total``) and logged by position: one bad record
    must not stop following, or the gateway would run on stale data. If
    following stops anyway, ``alive`` turns false and ``caught_up`` raises why.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        apply: Callable[[InboundRecord], None],
        sized: Callable[[int], None] | None = None,
        start: Mapping[int, int] | None = None,
        partitions: Collection[int] | None = None,
        **client: Any,
    ) -> None:
        """``sized``, when given, hears after every poll how many records the topic holds so far (for a
        progress bar with a total): those read plus those still to read up to each high watermark.
        ``start``: the offset to start at per partition (the others from their start); an offset past a
        partition's end starts it from its start again, which the caller sees in the offsets it gets.
        ``partitions``: only these partitions (default: all)."""
        self._start = dict(start or {})
        self._only = None if partitions is None else set(partitions)
        self._bootstrap = bootstrap
        self._topic = topic
        self._apply = apply
        self._sized = sized
        self._read = 0
        self._consumer = new_consumer(
            bootstrap=bootstrap,
            client_id=f"gkt-follow-{topic}",
            fetch_max_wait_ms=100,
            max_partition_fetch_bytes=4_194_304,
            **client,
        )
        self._task: asyncio.Task[None] | None = None
        self._polls = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    async def start(self) -> None:
        try:
            await self._consumer.start()
            await self._consumer.topics()  # refreshes metadata for every topic
            partitions = self._consumer.partitions_for_topic(self._topic) or set()
            if not partitions:
                await self._consumer.stop()
                raise BrokerError(f"topic {self._topic} does not exist (is the topic prefix right?)")
            tps = [TopicPartition(self._topic, p) for p in sorted(partitions) if self._only is None or p in self._only]
            self._consumer.assign(tps)
            await self._consumer.seek_to_beginning(*(tp for tp in tps if not self._start.get(tp.partition)))
            for tp in tps:
                if self._start.get(tp.partition):
                    self._consumer.seek(tp, self._start[tp.partition])
        except KafkaError as exc:
            await self._consumer.stop()
            # The class, not aiokafka's message: that one is a repr of address tuples (it logs its own line).
            raise BrokerError(
                f"cannot reach Kafka at {self._bootstrap} to read {self._topic} ({type(exc).__name__})"
            ) from exc
        self._task = asyncio.create_task(self._run(), name=f"follow-{self._topic}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    @property
    def topic(self) -> str:
        return self._topic

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    def failure(self) -> BaseException | None:
        """Why following stopped, once it has; None while it runs."""
        if self._task is None or not self._task.done() or self._task.cancelled():
            return None
        return self._task.exception()

    async def caught_up(self, limit_seconds: float = 60.0) -> None:
        """Return once everything written to the topic before this call has been applied."""
        if self._task is not None and self._task.done():
            self._task.result()  # re-raise why following stopped
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((self._polls, future))
        try:
            await asyncio.wait_for(future, limit_seconds)
        except TimeoutError:
            waiting = sorted(f"{t}/{p} at offset {o}" for (t, p), o in BLOCKED.blocked().items() if t == self._topic)
            why = f"partitions wait at a batch that cannot be decoded: {', '.join(waiting)}" if waiting else "no end"
            raise BrokerError(f"{self._topic} not read to its end within {limit_seconds:g} s ({why})") from None

    async def _remaining(self) -> int:
        """Records between each partition's position and its high watermark (from fetch responses)."""
        remaining = 0
        for tp in self._consumer.assignment():
            end = self._end(tp)
            if end is not None:
                remaining += max(0, end - await self._consumer.position(tp))
        return remaining

    def _end(self, tp: TopicPartition) -> int | None:
        """Where reading ``tp`` ends for now: its last stable offset (read_committed reads no further than an
        open transaction), else its high watermark; None before the first fetch response."""
        stable = self._consumer.last_stable_offset(tp)
        if stable is not None and stable >= 0:
            return int(stable)
        highwater = self._consumer.highwater(tp)
        return None if highwater is None else int(highwater)

    async def _at_end(self) -> bool:
        """Every partition read up to the high watermark of its latest fetch response.

        A poll that brought nothing is not the end: the first fetch may simply not have
        answered within the poll's timeout (a busy broker), and a reader that stopped there
        would hand back a partial topic: an audit log verified short, a head read stale.
        """
        for tp in self._consumer.assignment():
            end = self._end(tp)
            if end is None or await self._consumer.position(tp) < end:
                return False
        return True

    async def _run(self) -> None:
        while True:
            started = self._polls
            batches = await self._consumer.getmany(timeout_ms=100, max_records=10_000)
            BLOCKED.fetched(self._consumer, batches)  # a partition at an undecodable batch waits there
            fetched = 0
            for records in batches.values():
                for record in records:
                    self._apply_one(record)
                fetched += len(records)
            self._read += fetched
            self._polls += 1
            if self._sized is not None:
                self._sized(self._read + await self._remaining())
            if self._waiters and await self._at_end():
                # Only waiters registered before this poll began are surely served by it.
                ready = [(n, f) for n, f in self._waiters if n <= started]
                self._waiters = [(n, f) for n, f in self._waiters if n > started]
                for _, future in ready:
                    if not future.done():
                        future.set_result(None)

    def _apply_one(self, record: ConsumerRecord) -> None:
        try:
            self._apply(plain(record))
        except Exception as exc:
            FOLLOW_SKIPPED.labels(self._topic).inc()
            # Position and error type only: the message may quote the record.
            log.error(
                "follow_record_skipped",
                position=f"{record.topic}/{record.partition}/{record.offset}",
                error=type(exc).__name__,
            )


async def read_once(
    bootstrap: str,
    topic: str,
    apply: Callable[[InboundRecord], None],
    sized: Callable[[int], None] | None = None,
    start: Mapping[int, int] | None = None,
    partitions: Collection[int] | None = None,
    **client: Any,
) -> None:
    """Apply every record of ``topic`` written so far (from ``start``, of ``partitions``), then stop."""
    follower = TopicFollower(bootstrap, topic, apply, sized, start, partitions, **client)
    await follower.start()
    try:
        await follower.caught_up(limit_seconds=600)
    finally:
        await follower.stop()


async def read_all(bootstrap: str, topic: str, **client: Any) -> list[InboundRecord]:
    """Every record of ``topic`` written so far (all partitions)."""
    records: list[InboundRecord] = []
    await read_once(bootstrap, topic, records.append, **client)
    return records
