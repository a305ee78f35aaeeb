"""Send one record and wait for the gateway's answer to it: a receipt (``gkt publish``), an audit record
(``gkt review release``).

The answer topic is read once to its end before sending, then followed, never
read again: a busy topic holds many answers, and those already there cannot be ours.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from gateway.errors import BrokerError
from gateway.inbound import InboundRecord, Position
from gateway.kafka.follower import TopicFollower
from gateway.kafka.runner import new_partner_producer


async def send_and_await(
    bootstrap: str,
    answers: str,
    answered: Callable[[InboundRecord], Position | None],
    send: tuple[str, bytes, bytes | None, list[tuple[str, bytes]]],
    limit_seconds: float,
    **client: Any,
) -> tuple[Position, InboundRecord]:
    """Send ``(topic, value, key, headers)``; return where it went and the first record on ``answers`` for which
    ``answered`` names that position. A record ``answered`` cannot read raises there and is skipped (logged)."""
    listening = False
    seen: dict[Position, InboundRecord] = {}
    arrived = asyncio.Event()

    def keep(record: InboundRecord) -> None:
        if listening and (position := answered(record)) is not None:
            seen[position] = record
            arrived.set()

    follower = TopicFollower(bootstrap, answers, keep, **client)
    await follower.start()
    try:
        await follower.caught_up(limit_seconds)
        listening = True
        producer = new_partner_producer(bootstrap, **client)
        await producer.start()
        try:
            topic, value, key, headers = send
            sent = await producer.send_and_wait(topic, value, key=key, headers=headers)
        finally:
            await producer.stop()
        position = Position(sent.topic, sent.partition, sent.offset)
        try:
            async with asyncio.timeout(limit_seconds):
                while position not in seen:
                    arrived.clear()
                    await arrived.wait()
        except TimeoutError:
            raise BrokerError(f"no answer on {answers} within {limit_seconds:g} s for {position}") from None
        return position, seen[position]
    finally:
        await follower.stop()
