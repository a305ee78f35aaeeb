"""The Kafka side of ``gateway.consumer``: signals verified against the gateway's keys, each ``signal_id`` once.

The gateway delivers at least once (a crash before its commit writes a signal
again, with the same id), and signs every signal. This helper drops a signal
whose signature does not verify with a gateway key valid at the signal's time
(logged, counted), and one whose ``signal_id`` it has seen. Give it a
persistent ``seen`` store to deduplicate across restarts; the default
remembers the last 1,000,000 ids in memory.
"""

from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

import structlog

from contracts.jsonio import strict_loads
from contracts.signal import Signal
from gateway.inbound import SIGNATURE_HEADER, InboundRecord
from gateway.kafka.consumers import new_consumer
from gateway.kafka.records import plain
from gateway.keyset import KeySet

log = structlog.get_logger("gkt.consumer")


class SeenSignals(Protocol):
    """Remembers which ``signal_id`` was handled; a database table in production."""

    def first_time(self, signal_id: str) -> bool: ...


class RecentSignals:
    """The last ``size`` signal ids, in memory."""

    def __init__(self, size: int = 1_000_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def first_time(self, signal_id: str) -> bool:
        if signal_id in self._ids:
            return False
        self._ids[signal_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


@dataclass(frozen=True, slots=True)
class VerifiedSignal:
    signal_id: str
    topic: str
    partition: int
    offset: int
    event: dict[str, Any]
    data: Signal


class SignalSubscriber:
    def __init__(
        self,
        bootstrap: str,
        topics: list[str],
        group_id: str,
        keys: KeySet,
        seen: SeenSignals | None = None,
        **consumer_settings: Any,
    ) -> None:
        self.keys = keys
        self.seen = seen or RecentSignals()
        self.rejected = 0
        self.repeated = 0
        self._consumer = new_consumer(*topics, bootstrap=bootstrap, group_id=group_id, **consumer_settings)

    async def __aenter__(self) -> "SignalSubscriber":
        await self._consumer.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._consumer.stop()

    async def batches(self, timeout_ms: int = 500) -> AsyncIterator[list[VerifiedSignal]]:
        """Verified signals not seen before, a batch at a time (empty batches are skipped)."""
        while True:
            fetched = await self._consumer.getmany(timeout_ms=timeout_ms)
            batch = [s for records in fetched.values() for r in records if (s := self._accept(plain(r))) is not None]
            if batch:
                yield batch

    async def commit(self) -> None:
        await self._consumer.commit()

    def _accept(self, record: InboundRecord) -> VerifiedSignal | None:
        where = str(record.position)
        signal = self._verified(record)
        if signal is None:
            self.rejected += 1
            log.error("signal_not_verified", position=where)
            return None
        if not self.seen.first_time(signal.signal_id):
            self.repeated += 1
            return None
        return signal

    def _verified(self, record: InboundRecord) -> VerifiedSignal | None:
        tokens = record.headers_named(SIGNATURE_HEADER)
        if len(tokens) != 1 or record.value is None:
            return None
        try:
            event = strict_loads(record.value)
            moment = datetime.fromisoformat(event["time"])
        except (ValueError, KeyError, TypeError):
            return None
        if not self.keys.verifies(tokens[0], record.value, moment):
            return None
        try:
            data = Signal.model_validate(event["data"], strict=False)
        except ValueError:
            return None
        where = record.position
        return VerifiedSignal(data.signaalId, where.topic, where.partition, where.offset, event, data)
