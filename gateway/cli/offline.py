"""``gkt check``: one decision offline, with the same code as the service."""

from datetime import datetime
from typing import Any

from gateway.decision import Decision
from gateway.inbound import SIGNATURE_HEADER, InboundRecord, Position
from gateway.outputs import receipt, signal_data
from gateway.pipeline import Rules, decide
from gateway.reasons import Outcome
from gateway.stages.deduplicate import NoMemory
from gateway.types import PartnerId


def check_event(
    value: bytes,
    partner: PartnerId,
    signature: bytes | None,
    rules: Rules,
    received_at: datetime,
    decided_at: datetime,
) -> tuple[Decision, dict[str, Any]]:
    """Decide ``value`` as if it arrived on the partner's topic (partition 0, offset 0)."""
    position = Position(rules.topics.inbound(partner), 0, 0)
    headers = ((SIGNATURE_HEADER, signature),) if signature is not None else ()
    record = InboundRecord(position, int(received_at.timestamp() * 1000), value, headers)
    decision = decide(record, rules, NoMemory())
    routed = decision.outcome is Outcome.ROUTED
    result = {
        "outcome": decision.outcome.value,
        "reasons": [r.as_dict() for r in decision.reasons],
        "destination": {"topic": decision.destination} if decision.destination else None,
        "receipt": receipt(decision, decided_at),
        "signal": signal_data(decision, position.chain, 0) if routed else None,
    }
    return decision, result
