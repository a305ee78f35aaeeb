"""Builders shared by the tests: rules, signed inbound records, a duplicate memory."""

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from contracts.jsonio import strict_loads
from gateway.demo import samples as s
from gateway.demo.scenario import Sample
from gateway.inbound import SIGNATURE_HEADER, InboundRecord, Position
from gateway.outputs import MAX_RECORD_BYTES, MAX_SMALL_RECORD_BYTES, OutMessage
from gateway.pipeline import Rules
from gateway.processor import BatchResult
from gateway.reasons import Outcome
from gateway.rules_loader import load_rules
from gateway.selection.key import ClientKey
from gateway.settings import Settings
from gateway.stages.deduplicate import Original
from gateway.types import PartnerId

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


def make_rules(prefix: str = "") -> Rules:
    """The rules the demo runs with: sample agreements and reference data, test OINs accepted."""
    return load_rules(Settings(topic_prefix=prefix, reference=s.REFERENCE_FILE, allow_test_oins=True))


def now() -> datetime:
    return datetime.now(UTC)


def good(count: int, event_id: str | None = None) -> list[Sample]:
    """``count`` signed NLA reports that route, each on a key of its own (or all with ``event_id``)."""
    result = []
    for _ in range(count):
        value = s.encode(s.event(s.nla_report(), time=now(), event_id=event_id or str(uuid.uuid4())))
        result.append(
            Sample(
                "good",
                PartnerId("nla"),
                value,
                (("gkt-signature", s.sign(value, "nla-2025-01")),),
                Outcome.ROUTED,
                key=str(uuid.uuid4()).encode(),
            )
        )
    return result


def inbound(
    value: bytes | None,
    *,
    partner: str = "nla",
    kid: str | None = "nla-2025-01",
    at: datetime = NOW,
    offset: int = 0,
    partition: int = 0,
    headers: tuple[tuple[str, bytes | None], ...] | None = None,
    timestamp_ms: int | None = None,
    broker_time: bool = True,
) -> InboundRecord:
    """The one builder of inbound records in the tests: on ``gkt.in.<partner>``, signed by ``kid`` unless
    headers are given, with the Kafka timestamp ``at`` (or ``timestamp_ms`` exactly, for hostile ones),
    dated by the broker unless ``broker_time`` is false (CreateTime: the producer chose it)."""
    if headers is None:
        headers = ((SIGNATURE_HEADER, s.sign(value, kid)),) if kid and value is not None else ()
    millis = int(at.timestamp() * 1000) if timestamp_ms is None else timestamp_ms
    return InboundRecord(
        Position(f"gkt.in.{partner}", partition, offset), millis, value, headers, broker_time=broker_time
    )


def from_sample(sample: Sample, offset: int, at: datetime) -> InboundRecord:
    """A demo sample as the record it becomes on its partner's topic (its own timestamp, or ``at``)."""
    return inbound(
        sample.value, partner=sample.partner, at=sample.timestamp or at, offset=offset, headers=sample.headers
    )


def nla(at: datetime = NOW, **changes: Any) -> bytes:
    return s.encode(s.event(s.nla_report(**changes), time=at))


def nla_event(data: dict[str, Any], at: datetime = NOW, **attrs: Any) -> bytes:
    event = s.event(data, time=at)
    event.update(attrs)
    return s.encode(event)


def kvk(at: datetime = NOW, **changes: Any) -> bytes:
    return s.encode(s.event(s.kvk_report(**changes), time=at, source=s.KVK_SOURCE, report_type=s.KVK_TYPE))


class Memory:
    """A DedupMemory backed by a dict."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], Position] = {}

    def first(self, source: str, event_id: str) -> Original | None:
        position = self.seen.get((source, event_id))
        return Original(position) if position is not None else None


def kafka_size(message: OutMessage) -> int:
    """The bytes ``message`` takes in a Kafka record batch, encoded by aiokafka's own builder.

    Raises as the producer would for anything that cannot be written (a header
    that does not encode, a value that is not bytes).
    """
    builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, 2**31 - 1)
    builder.append(0, timestamp=0, key=message.key, value=message.value, headers=list(message.headers))
    return len(builder.build())


def check_outputs(result: BatchResult) -> None:
    """What every batch's outputs must be, whatever came in: encodable, bounded, I-JSON, nothing planted in it.

    Receipts, audit records and dead letters stay under 64 KiB, everything under 1 MiB.
    """
    small = ("gkt.feedback.", "gkt.audit", "gkt.deadletter")
    for message in [*result.outputs, *result.audits]:
        size = kafka_size(message)
        limit = MAX_SMALL_RECORD_BYTES if any(part in message.topic for part in small) else MAX_RECORD_BYTES
        assert size < limit, f"{message.topic}: {size} bytes"
        if "gkt.deadletter" not in message.topic:
            assert isinstance(strict_loads(message.value), dict), message.topic
        for name, value in message.headers:
            assert value is not None
            name.encode("utf-8")


class Clock:
    """A monotonic clock a test moves by hand: ``clock.now += 0.5``."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def client_key_file(folder: Path) -> str:
    """A client key file in ``folder`` (spec/selection.md), made once: every ``gkt run --bootstrap`` needs one."""
    path = folder / "client.key"
    if not path.exists():
        path.write_text(ClientKey.generate().text())
    return str(path)
