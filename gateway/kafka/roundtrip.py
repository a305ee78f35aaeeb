"""Send one record and wait for the gateway's answer to it: a receipt (``gkt publish``), an audit record
(``gkt review release``).

The answer topic is read once to its end before sending, then followed, never
read again: a busy topic holds many answers, and those already there cannot be ours.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka.errors import KafkaError

from gateway.errors import BrokerError
from gateway.inbound import InboundRecord, Position
from gateway.kafka.follower import TopicFollower
from gateway.kafka.runner import new_partner_producer


class NotSentError(BrokerError):
    """Kafka failed before the record was handed over: nothing was written, the same command may run again."""


class MaybeSentError(BrokerError):
    """Kafka failed while the record was being written: it may be there or not; resend it unchanged (same id)."""


class UnansweredError(BrokerError):
    """The record was written at ``position``, but no answer came in time: do not send it again as new."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.position = position


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
    try:
        await follower.start()
    except BrokerError as exc:
        raise NotSentError(str(exc)) from exc
    try:
        try:
            await follower.caught_up(limit_seconds)
        except BrokerError as exc:
            raise NotSentError(str(exc)) from exc
        listening = True
        position = await send_one(bootstrap, send, **client)
        try:
            async with asyncio.timeout(limit_seconds):
                while position not in seen:
                    arrived.clear()
                    await arrived.wait()
        except TimeoutError:
            why = f"no answer on {answers} within {limit_seconds:g} s for {position}"
            raise UnansweredError(why, position) from None
        return position, seen[position]
    finally:
        await follower.stop()


async def send_one(
    bootstrap: str, send: tuple[str, bytes, bytes | None, list[tuple[str, bytes]]], **client: Any
) -> Position:
    """Write one record ``(topic, value, key, headers)`` and say where it went; a failure says whether it can
    have been written (``NotSentError``, ``MaybeSentError``)."""
    producer = new_partner_producer(bootstrap, **client)
    try:
        await producer.start()
    except KafkaError as exc:
        await producer.stop()
        raise NotSentError(f"cannot reach Kafka at {bootstrap} ({type(exc).__name__})") from exc
    try:
        topic, value, key, headers = send
        sent = await producer.send_and_wait(topic, value, key=key, headers=headers)
    except KafkaError as exc:
        raise MaybeSentError(f"writing to {send[0]} failed ({type(exc).__name__})") from exc
    finally:
        await producer.stop()
    return Position(sent.topic, sent.partition, sent.offset)
