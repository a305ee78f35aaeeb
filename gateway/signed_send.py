"""Publish one signed record the gateway decides (a verdict, a feedback step) and wait for its audit record.

``gkt review release`` and ``gkt feedback send`` print what the gateway
decided, not just that Kafka took the record: the audit record whose
``inbound`` is the record's own position is the answer.
"""

from dataclasses import dataclass
from typing import Any

from contracts.jsonio import strict_loads
from gateway.errors import BrokerError
from gateway.inbound import InboundRecord, Position
from gateway.kafka.roundtrip import MaybeSentError, NotSentError, UnansweredError, send_and_await
from gateway.topics import Topics


@dataclass(frozen=True, slots=True)
class Signed:
    """A record to publish: its topic, exact value, Kafka key and ``gkt-signature``, and how to speak of it."""

    topic: str
    value: bytes
    key: bytes
    signature: str
    what: str  # "the verdict", "the step"
    later: str  # where to look when the gateway did not answer in time
    again: str  # why sending it again is safe


async def send_signed(
    bootstrap: str, topics: Topics, signed: Signed, limit_seconds: float, **client: Any
) -> tuple[Position, dict[str, Any]]:
    """Publish ``signed``; return where it went and the gateway's audit record of it."""

    def decided(record: InboundRecord) -> Position:
        return Position.of(strict_loads(record.value or b"")["inbound"])

    try:
        position, audit = await send_and_await(
            bootstrap,
            topics.audit,
            decided,
            (signed.topic, signed.value, signed.key, [("gkt-signature", signed.signature.encode())]),
            limit_seconds,
            **client,
        )
    except UnansweredError as exc:
        raise BrokerError(
            f"{exc}: {signed.what} was written, but the gateway did not decide it in time (is it running?); it "
            f"decides it when it runs: {signed.later}"
        ) from exc
    except (NotSentError, MaybeSentError) as exc:
        raise BrokerError(
            f"{exc}: {signed.what} was not sent, or perhaps not; run the same command again ({signed.again})"
        ) from exc
    return position, strict_loads(audit.value or b"")
