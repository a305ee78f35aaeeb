"""Reads single records by position: the held report a verdict names (spec/review.md).

A verdict that releases or rechecks a report decides it again from its exact
bytes, which stay on the partner's inbound topic; nothing is kept in a local
file, so any gateway process can decide any verdict.
"""

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from gateway.errors import BrokerError
from gateway.inbound import InboundRecord, Position
from gateway.kafka.consumers import new_consumer
from gateway.kafka.records import plain


class RecordFetcher:
    """One consumer outside any group, assigned to whichever partition holds the next record wanted."""

    def __init__(self, bootstrap: str, **client: Any) -> None:
        self._bootstrap = bootstrap
        self._client = client
        self._started: AIOKafkaConsumer | None = None  # made in start(): an unstarted one must not linger

    async def start(self) -> None:
        # auto_offset_reset earliest: an offset no longer there moves to the first one that is
        consumer = new_consumer(
            bootstrap=self._bootstrap,
            client_id="gkt-fetch",
            fetch_max_wait_ms=100,
            max_partition_fetch_bytes=1_048_576,
            **self._client,
        )
        try:
            await consumer.start()
        except KafkaError as exc:
            await consumer.stop()
            raise BrokerError(f"cannot read held reports: {exc}") from exc
        self._started = consumer

    async def stop(self) -> None:
        if self._started is not None:
            await self._started.stop()
            self._started = None

    @property
    def _consumer(self) -> AIOKafkaConsumer:
        assert self._started is not None, "start() first"
        return self._started

    async def fetch(self, positions: set[Position], limit_seconds: float = 30.0) -> dict[Position, InboundRecord]:
        """The records at ``positions`` that still exist; one that retention deleted is left out.

        A broker that does not answer within ``limit_seconds`` is a ``BrokerError``, never "deleted":
        the gateway exits uncommitted and decides the verdict again after the restart (G1).
        """
        found: dict[Position, InboundRecord] = {}
        for position in sorted(positions, key=str):
            record = await self._one(position, limit_seconds)
            if record is not None:
                found[position] = record
        return found

    async def _one(self, position: Position, limit_seconds: float) -> InboundRecord | None:
        tp = TopicPartition(position.topic, position.partition)
        try:
            self._consumer.assign([tp])
            self._consumer.seek(tp, position.offset)
            async with asyncio.timeout(limit_seconds):
                while True:
                    batches = await self._consumer.getmany(tp, timeout_ms=500, max_records=1)
                    for record in batches.get(tp, []):
                        return plain(record) if record.offset == position.offset else None
                    if await self._consumer.position(tp) > position.offset:
                        return None  # the log now starts after it
        except TimeoutError:
            raise BrokerError(f"could not read {position} within {limit_seconds:g} s") from None
        except KafkaError as exc:
            raise BrokerError(f"could not read {position}: {type(exc).__name__}") from exc
