"""The partner side of ``gkt publish``: send one signed report and wait for its receipt."""

import asyncio
from typing import Any

from gateway.errors import BrokerError
from gateway.jsonio import strict_loads
from gateway.kafka.follower import read_all
from gateway.kafka.runner import new_partner_producer
from gateway.settings import Settings
from gateway.topics import Topics
from gateway.types import PartnerId


async def publish_and_wait(
    settings: Settings, partner: PartnerId, value: bytes, signature: bytes, limit_seconds: float
) -> dict[str, Any]:
    topics = Topics(settings.topic_prefix)
    assert settings.bootstrap
    producer = new_partner_producer(settings.bootstrap)
    await producer.start()
    try:
        sent = await producer.send_and_wait(topics.inbound(partner), value, headers=[("gkt-signature", signature)])
    finally:
        await producer.stop()
    deadline = asyncio.get_running_loop().time() + limit_seconds
    while asyncio.get_running_loop().time() < deadline:
        for record in await read_all(settings.bootstrap, topics.feedback(partner)):
            receipt = strict_loads(record.value)
            inbound = receipt.get("inbound", {})
            if (inbound.get("topic"), inbound.get("partition"), inbound.get("offset")) == (
                sent.topic,
                sent.partition,
                sent.offset,
            ):
                return dict(receipt)
        await asyncio.sleep(0.5)
    raise BrokerError(f"no receipt within {limit_seconds:g} s for {sent.topic}/{sent.partition}/{sent.offset}")
