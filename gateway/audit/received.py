"""When the record an audit record decided reached Kafka: read by every memory rebuilt from the log."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from contracts.jsonio import to_millis


def received_ms(record: Mapping[str, Any]) -> int | None:
    """When the record an audit record decided reached Kafka (``inbound.timestamp``), in ms; None if it says not."""
    inbound = record.get("inbound")
    stamp = inbound.get("timestamp") if isinstance(inbound, dict) else None
    try:
        return to_millis(datetime.fromisoformat(stamp)) if isinstance(stamp, str) else None
    except (ValueError, OverflowError, TypeError):  # TypeError: a time without an offset
        return None
