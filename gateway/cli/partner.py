"""The partner side of ``gkt publish``: send one signed report and wait for its receipt."""

import asyncio
from typing import Any

from contracts.jsonio import strict_loads
from gateway.errors import BrokerError
from gateway.inbound import InboundRecord
from gateway.kafka.follower import TopicFollower
from gateway.kafka.runner import new_partner_producer
from gateway.kafka.security import client_options
from gateway.settings import Settings
from gateway.topics import Topics
from gateway.types import PartnerId


async def publish_and_wait(
    settings: Settings, partner: PartnerId, value: bytes, signature: bytes, limit_seconds: float
) -> InboundRecord:
    """Publish with the configured security settings, then follow the feedback topic until the receipt comes.

    Returns the receipt's record as written: its value and its ``gkt-signature`` header.

    The feedback topic is read once from its start and then followed, never
    read again: a busy partner's topic holds many receipts.
    """
    topics = Topics(settings.topic_prefix)
    assert settings.bootstrap
    client = client_options(settings)
    listening = False  # receipts already there before we send cannot be ours
    receipts: dict[tuple[Any, Any, Any], InboundRecord] = {}
    arrived = asyncio.Event()

    def keep(record: InboundRecord) -> None:
        if not listening:
            return
        receipt = strict_loads(record.value or b"")
        inbound = receipt.get("inbound") or {}
        receipts[(inbound.get("topic"), inbound.get("partition"), inbound.get("offset"))] = record
        arrived.set()

    follower = TopicFollower(settings.bootstrap, topics.feedback(partner), keep, **client)
    await follower.start()
    try:
        await follower.caught_up(limit_seconds)
        listening = True
        producer = new_partner_producer(settings.bootstrap, **client)
        await producer.start()
        try:
            sent = await producer.send_and_wait(topics.inbound(partner), value, headers=[("gkt-signature", signature)])
        finally:
            await producer.stop()
        position = (sent.topic, sent.partition, sent.offset)
        try:
            async with asyncio.timeout(limit_seconds):
                while position not in receipts:
                    arrived.clear()
                    await arrived.wait()
        except TimeoutError:
            raise BrokerError(
                f"no receipt within {limit_seconds:g} s for {sent.topic}/{sent.partition}/{sent.offset}"
            ) from None
        return receipts[position]
    finally:
        await follower.stop()
