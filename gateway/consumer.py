"""For detection consumers: signals verified against the gateway's keys, each ``signal_id`` once.

    keys = KeySet.load(Path("gateway-keys.json"))           # from `gkt keys show`
    async with SignalSubscriber("kafka:9092", ["bd.detectie.mkb"], "detectie-mkb", keys) as signals:
        async for batch in signals.batches():
            for signal in batch:
                handle(signal.data)                          # contracts.signal.Signal
            await signals.commit()                           # after handling: at least once

The gateway delivers at least once (a crash before its commit writes a signal
again, with the same id), and signs every signal. This helper drops a signal
whose signature does not verify with a gateway key valid at the signal's time
(logged, counted), and one whose ``signal_id`` it has seen. Give it a
persistent ``seen`` store to deduplicate across restarts; the default
remembers the last 1,000,000 ids in memory.
"""

import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from contracts.signal import Signal
from gateway.inbound import SIGNATURE_HEADER
from gateway.keyset import KeySet
from gateway.signing import SignatureFormatError, read_protected_header, verify_detached

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
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **consumer_settings,
        )

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
            batch = [s for records in fetched.values() for r in records if (s := self._accept(r)) is not None]
            if batch:
                yield batch

    async def commit(self) -> None:
        await self._consumer.commit()

    def _accept(self, record: ConsumerRecord) -> VerifiedSignal | None:
        where = f"{record.topic}/{record.partition}/{record.offset}"
        signal = self._verified(record)
        if signal is None:
            self.rejected += 1
            log.error("signal_not_verified", position=where)
            return None
        if not self.seen.first_time(signal.signal_id):
            self.repeated += 1
            return None
        return signal

    def _verified(self, record: ConsumerRecord) -> VerifiedSignal | None:
        tokens = [value for key, value in record.headers or () if key == SIGNATURE_HEADER]
        if len(tokens) != 1 or record.value is None:
            return None
        try:
            token = tokens[0].decode("ascii")
            key = self.keys.get(read_protected_header(token).kid)
            event = json.loads(record.value)
            moment = datetime.fromisoformat(event["time"])
        except (UnicodeDecodeError, SignatureFormatError, ValueError, KeyError, TypeError):
            return None
        if key is None or not key.valid_at(moment) or not verify_detached(token, record.value, key.key, "EdDSA"):
            return None
        try:
            data = Signal.model_validate(event["data"], strict=False)
        except ValueError:
            return None
        return VerifiedSignal(data.signaalId, record.topic, record.partition, record.offset, event, data)


async def _example() -> None:
    """The example consumer of docker/compose.yaml: one JSON line per new, verified signal."""
    from gateway.kafka.security import client_options
    from gateway.rules_loader import load_keyset
    from gateway.settings import load_settings
    from gateway.topics import Topics
    from routing.policy import PolicyBook

    settings = load_settings()
    if not settings.bootstrap:
        raise SystemExit("set GKT_BOOTSTRAP")
    topics = Topics(settings.topic_prefix)
    names = [topics.destination(n) for n in PolicyBook.load(settings.policies).destinations()]
    async with SignalSubscriber(
        settings.bootstrap, names, "detectie-example", load_keyset(settings), **client_options(settings)
    ) as signals:
        async for batch in signals.batches():
            for signal in batch:
                # Ids and codes only: a log line never carries a BSN or a name.
                print(
                    json.dumps(
                        {
                            "signal_id": signal.signal_id,
                            "topic": signal.topic,
                            "partner": signal.data.melding.partner,
                            "oordeel": signal.data.oordeel,
                        }
                    )
                )
            await signals.commit()


if __name__ == "__main__":
    import asyncio

    asyncio.run(_example())
