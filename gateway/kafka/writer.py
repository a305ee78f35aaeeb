"""Writes output records in bulk and waits for the broker's acknowledgement of all of them."""

import asyncio
import itertools
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.producer.message_accumulator import BatchBuilder
from murmurhash2 import murmurhash2

from gateway.errors import BrokerError
from gateway.outputs import OutMessage


def new_producer(bootstrap: str, *, idempotent: bool = False, **client: Any) -> AIOKafkaProducer:
    # acks=all: a record counts as written only when every in-sync replica has it.
    # Idempotence is off by default: tansu refuses InitProducerId; outputs carry
    # deterministic ids instead, so a retried write is recognisable downstream.
    options: dict[str, Any] = {
        "client_id": "gkt-gateway",
        "acks": "all",
        "enable_idempotence": idempotent,
        "linger_ms": 0,  # the Writer batches per partition itself; lingering only delays each write
        "max_batch_size": 1_048_576,
        "max_request_size": 2_097_152,
        "request_timeout_ms": 30_000,
    }
    return AIOKafkaProducer(bootstrap_servers=bootstrap, **(options | client))


# The Java client's murmur2 seed: with it, murmurhash2 is aiokafka's (and the Java client's) murmur2 compiled,
# ~0.15 µs against ~5 µs a key (tests/unit/test_writer_partition.py holds them equal on any key).
KAFKA_SEED = 0x9747B28C


def murmur2(key: bytes) -> int:
    """Kafka's murmur2 of ``key``, as an unsigned 32-bit integer."""
    hashed: int = murmurhash2(key, KAFKA_SEED)
    return hashed


def partition_for(key: bytes, partitions: int) -> int:
    """The partition of a keyed record: murmur2 as the Java client and aiokafka's default partitioner do."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class Writer:
    """Sends many records as one record batch per partition, then awaits every acknowledgement.

    ``producer.send`` per record costs tens of µs of Python (a metadata wait,
    an accumulator slot, a future each), and a decision writes two or three
    records. Filling one batch per partition and submitting it with
    ``send_batch`` pays that once per partition. Keyed records go where
    ``send`` would put them (``partition_for``); records of one partition keep
    the order they were given in, which the audit chains depend on.
    """

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._turn = itertools.count()  # keyless records (dead letters) take the partitions in turn

    async def write(self, messages: list[OutMessage]) -> None:
        if not messages:
            return
        try:
            await asyncio.gather(*await self._submit(messages))
        except KafkaError as exc:
            raise BrokerError(f"write to Kafka failed: {type(exc).__name__}") from exc

    async def _submit(self, messages: list[OutMessage]) -> list["asyncio.Future[Any]"]:
        """Fills batches in message order and submits them; a full batch goes at once, a new one follows."""
        producer = self._producer
        partitions: dict[str, list[int]] = {}
        batches: dict[tuple[str, int], BatchBuilder] = {}
        submitted = []
        for m in messages:
            if m.signature is not None:
                raise ValueError("an output is written only with its signature complete (OutMessage.complete)")
            known = partitions.get(m.topic)
            if known is None:
                known = partitions[m.topic] = sorted(await producer.partitions_for(m.topic))
            if m.key is None:
                partition = known[next(self._turn) % len(known)]
            else:
                partition = known[partition_for(m.key, len(known))]
            slot = (m.topic, partition)
            batch = batches.get(slot)
            if batch is None:
                batch = batches[slot] = producer.create_batch()
            headers = list(m.headers)
            if batch.append(key=m.key, value=m.value, timestamp=None, headers=headers) is None:
                submitted.append(await producer.send_batch(batch, m.topic, partition=partition))
                batch = batches[slot] = producer.create_batch()
                batch.append(key=m.key, value=m.value, timestamp=None, headers=headers)
        for (topic, partition), batch in batches.items():
            submitted.append(await producer.send_batch(batch, topic, partition=partition))
        return submitted
