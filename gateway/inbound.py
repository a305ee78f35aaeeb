"""An inbound Kafka record as plain data, and the CloudEvent read from it."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any, Literal

from contracts.jsonio import from_millis, sha256_digest, utc_iso
from gateway.messages import InboundPosition
from gateway.types import ChainId
from routing.calendar import day_of_receipt

SIGNATURE_HEADER = "gkt-signature"
# Kafka timestamps are any int64, but a report is dated from 1970 to a moment whose Dutch calendar date
# Python can still hold (9999-12-31T23:59Z is already the year 10000 in Amsterdam).
MIN_TIMESTAMP_MS = 0
MAX_TIMESTAMP_MS = 253_402_214_399_999  # 9999-12-30T23:59:59.999Z


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record sits: the ``inbound`` object of receipts and audit records."""

    topic: str
    partition: int
    offset: int

    @property
    def chain(self) -> ChainId:
        return ChainId(f"{self.topic}/{self.partition}")

    def as_dict(self) -> InboundPosition:
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}

    @classmethod
    def of(cls, written: Any) -> "Position":
        """The position an ``inbound`` or ``original`` object of a receipt or audit record names."""
        return cls(str(written["topic"]), int(written["partition"]), int(written["offset"]))

    def __str__(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True)
class InboundRecord:
    """What the gateway needs of one Kafka record; no Kafka types past the edge."""

    position: Position
    timestamp_ms: int
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()  # Kafka allows null header values
    key: bytes | None = None
    # Whose clock ``timestamp_ms`` is: the broker's append time (LogAppendTime), or a time the producer
    # chose (CreateTime), which the read stage refuses unless trust_producer_time (spec/wire.md, broker time).
    # Records from Kafka always say (gateway.kafka.records); the default is for records the caller dates
    # itself, as ``gkt check --received-at`` does.
    broker_time: bool = True

    @property
    def dated(self) -> bool:
        """Whether the Kafka timestamp is a moment the gateway can judge (the read stage refuses others)."""
        return MIN_TIMESTAMP_MS <= self.timestamp_ms <= MAX_TIMESTAMP_MS

    @cached_property
    def received_at(self) -> datetime:
        """The record's Kafka timestamp: every time rule is judged at this moment.

        An undated record (see ``dated``) is rejected by the read stage before any
        rule looks at the time; here it is held to the nearest datable moment so
        that code writing about the rejection never fails. Outputs use
        ``received_text``, which says null for it instead.
        """
        return from_millis(min(max(self.timestamp_ms, MIN_TIMESTAMP_MS), MAX_TIMESTAMP_MS))

    @cached_property
    def received_on(self) -> date:
        """The day of receipt: the Dutch calendar date of ``received_at`` (spec/policy.md)."""
        return day_of_receipt(self.received_at)

    @property
    def timestamp_type(self) -> Literal["LogAppendTime", "CreateTime"]:
        """Kafka's name for whose clock the timestamp is, as the audit record keeps it."""
        return "LogAppendTime" if self.broker_time else "CreateTime"

    @property
    def received_text(self) -> str | None:
        """``received_at`` as RFC 3339 UTC, or None when the record is not dated."""
        return utc_iso(self.received_at) if self.dated else None

    @cached_property
    def digest(self) -> str:
        return sha256_digest(self.value or b"")

    def headers_named(self, name: str) -> list[bytes | None]:
        return [value for key, value in self.headers if key == name]


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """A structurally valid inbound event (spec/wire.md, "Inbound event")."""

    id: str
    source: str
    oin: str
    type: str
    dataschema: str
    version: str
    time: datetime
    data: Any

    @property
    def identity(self) -> tuple[str, str]:
        """Same ``source`` and ``id`` means the same report (CloudEvents)."""
        return (self.source, self.id)
