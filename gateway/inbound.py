"""An inbound Kafka record as plain data, and the CloudEvent read from it."""

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from gateway.jsonio import from_millis, sha256_digest
from gateway.types import ChainId

SIGNATURE_HEADER = "gkt-signature"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record sits: the ``inbound`` object of receipts and audit records."""

    topic: str
    partition: int
    offset: int

    @property
    def chain(self) -> ChainId:
        return ChainId(f"{self.topic}/{self.partition}")

    def as_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}

    def __str__(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True)
class InboundRecord:
    """What the gateway needs of one Kafka record; no Kafka types past the edge."""

    position: Position
    timestamp_ms: int
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    key: bytes | None = None

    @cached_property
    def received_at(self) -> datetime:
        """The record's Kafka timestamp: every time rule is judged at this moment."""
        return from_millis(self.timestamp_ms)

    @cached_property
    def digest(self) -> str:
        return sha256_digest(self.value or b"")

    def headers_named(self, name: str) -> list[bytes]:
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
