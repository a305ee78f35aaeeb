"""The partner side of ``gkt publish`` and ``gkt receipt``: send one signed report, find its receipt."""

from datetime import datetime
from typing import Any

from contracts.jsonio import strict_loads
from gateway.inbound import SIGNATURE_HEADER, InboundRecord, Position
from gateway.kafka.follower import TopicFollower
from gateway.kafka.roundtrip import send_and_await
from gateway.kafka.security import client_options
from gateway.keyset import KeySet
from gateway.settings import Settings
from gateway.topics import Topics
from gateway.types import PartnerId


async def publish_and_wait(
    settings: Settings, partner: PartnerId, value: bytes, signature: bytes, limit_seconds: float
) -> InboundRecord:
    """Publish with the configured security settings, then follow the feedback topic until the receipt comes.

    Returns the receipt's record as written: its value and its ``gkt-signature`` header.
    Raises ``roundtrip.NotSentError``, ``MaybeSentError`` or ``UnansweredError``: what happened to the record.
    """
    topics = Topics(settings.topic_prefix)
    assert settings.bootstrap

    def receipt_for(record: InboundRecord) -> Position | None:
        receipt = read_receipt(record)
        return Position.of(receipt["inbound"]) if receipt is not None else None

    _, receipt = await send_and_await(
        settings.bootstrap,
        topics.feedback(partner),
        receipt_for,
        (topics.inbound(partner), value, None, [("gkt-signature", signature)]),
        limit_seconds,
        **client_options(settings),
    )
    return receipt


async def receipts_of(settings: Settings, partner: PartnerId, wanted: str, limit_seconds: float) -> list[InboundRecord]:
    """Every receipt on the partner's feedback topic for ``wanted``, oldest first: the first holds the decision,
    any later one answers a copy (``duplicate``).

    ``wanted`` is an event ``id``, or ``<topic>/<partition>/<offset>`` for a record that could not be read.
    Matched on the receipt itself, never on the record key: whoever can write the topic chooses the key.
    """
    assert settings.bootstrap
    found: list[InboundRecord] = []

    def keep(record: InboundRecord) -> None:
        receipt = read_receipt(record)
        if receipt is not None and wanted in (receipt.get("id"), str(Position.of(receipt["inbound"]))):
            found.append(record)

    topic = Topics(settings.topic_prefix).feedback(partner)
    follower = TopicFollower(settings.bootstrap, topic, keep, **client_options(settings))
    await follower.start()
    try:
        await follower.caught_up(limit_seconds)
    finally:
        await follower.stop()
    return found


def read_receipt(record: InboundRecord) -> dict[str, Any] | None:
    """The receipt ``record`` holds: a JSON object naming the record it answers (``inbound``); None for anything
    else on the topic, which is then not taken for a receipt at all."""
    try:
        receipt = strict_loads(record.value or b"")
        if isinstance(receipt, dict):
            Position.of(receipt["inbound"])
            return receipt
    except (ValueError, TypeError, KeyError, RecursionError):
        pass
    return None


def shown(record: InboundRecord, keys: KeySet | None) -> dict[str, Any]:
    """A receipt (as ``read_receipt`` took it) as ``gkt publish`` and ``gkt receipt`` print it: the receipt, its
    signature, and whether that verifies with the gateway's keys (``None``: no keys given)."""
    receipt = read_receipt(record)
    assert receipt is not None, "only records read_receipt took are shown"
    tokens = record.headers_named(SIGNATURE_HEADER)
    token = tokens[0] if len(tokens) == 1 else None
    verified = None
    if keys is not None:
        try:
            moment = datetime.fromisoformat(receipt["decided_at"])
        except (KeyError, TypeError, ValueError):
            verified = False
        else:
            verified = keys.verifies(token, record.value or b"", moment)
    return {
        "receipt": receipt,
        "signature": token.decode("ascii", "replace") if token else None,
        "signature_verified": verified,
    }
