"""The partner side of ``gkt publish``: send one signed report and wait for its receipt."""

from contracts.jsonio import strict_loads
from gateway.inbound import InboundRecord, Position
from gateway.kafka.roundtrip import send_and_await
from gateway.kafka.security import client_options
from gateway.settings import Settings
from gateway.topics import Topics
from gateway.types import PartnerId


async def publish_and_wait(
    settings: Settings, partner: PartnerId, value: bytes, signature: bytes, limit_seconds: float
) -> InboundRecord:
    """Publish with the configured security settings, then follow the feedback topic until the receipt comes.

    Returns the receipt's record as written: its value and its ``gkt-signature`` header.
    """
    topics = Topics(settings.topic_prefix)
    assert settings.bootstrap

    def receipt_for(record: InboundRecord) -> Position:
        return Position.of(strict_loads(record.value or b"")["inbound"])

    _, receipt = await send_and_await(
        settings.bootstrap,
        topics.feedback(partner),
        receipt_for,
        (topics.inbound(partner), value, None, [("gkt-signature", signature)]),
        limit_seconds,
        **client_options(settings),
    )
    return receipt
