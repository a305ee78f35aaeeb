"""Writes output records in bulk and waits for the broker's acknowledgement of all of them."""

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from gateway.errors import BrokerError
from gateway.outputs import OutMessage


def new_producer(bootstrap: str, *, idempotent: bool = False, **client: Any) -> AIOKafkaProducer:
    # acks=all: a record counts as written only when every in-sync replica has it.
    # Idempotence is off by default: tansu refuses InitProducerId; outputs carry
    # deterministic ids instead, so a retried write is recognisable downstream.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="gkt-gateway",
        acks="all",
        enable_idempotence=idempotent,
        linger_ms=2,
        max_batch_size=1_048_576,
        max_request_size=2_097_152,
        request_timeout_ms=30_000,
        **client,
    )


class Writer:
    """Sends many records without awaiting each, then awaits every acknowledgement."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def write(self, messages: list[OutMessage]) -> None:
        if not messages:
            return
        try:
            pending = [
                await self._producer.send(m.topic, m.value, key=m.key, headers=list(m.headers)) for m in messages
            ]
            await asyncio.gather(*pending)
        except KafkaError as exc:
            raise BrokerError(f"write to Kafka failed: {type(exc).__name__}") from exc
