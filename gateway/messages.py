"""Published shapes of what the gateway reads and writes besides reports and signals.

These models are the documentation (AsyncAPI, gateway/asyncapi.py) of the
receipt, quarantine, audit and reference records. The gateway builds those
records in gateway/outputs.py and gateway/audit/record.py, and the tests
validate every built record against these models, so the two cannot drift.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.signal import Signal

Sha256 = Field(pattern=r"^sha256:[0-9a-f]{64}$")


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class InboundPosition(_Message):
    topic: str
    partition: int
    offset: int


class ReceiptReason(_Message):
    code: str = Field(description="a reason code of spec/wire.md")
    path: str | None = Field(description="JSON pointer into the event")
    detail: str = Field(description="human text; never the offending value")


class Receipt(_Message):
    """The partner's signed proof of delivery, on ``gkt.feedback.<partner>``, keyed by event id."""

    id: str | None
    source: str | None
    inbound: InboundPosition
    event_digest: str = Sha256
    outcome: Literal["accepted", "rejected", "duplicate"]
    reasons: list[ReceiptReason]
    signal_id: str | None
    original: InboundPosition | None
    decided_at: str


class QuarantineRecord(_Message):
    """A report held for human review, on ``gkt.quarantine`` (reviewers only)."""

    id: str | None
    source: str | None
    partner: str | None
    inbound: InboundPosition
    event_digest: str = Sha256
    signal_id: str | None
    reasons: list[ReceiptReason]
    received_at: str
    decided_at: str
    agreement: str | None
    contract: str | None
    event: dict[str, object] | None = Field(description="the whole inbound event, as the partner sent it")


class AuditInbound(InboundPosition):
    timestamp: str


class AuditEvent(_Message):
    id: str | None
    source: str | None
    type: str | None
    dataschema: str | None
    digest: str = Sha256
    kid: str | None


class AuditReason(_Message):
    code: str
    path: str | None


class AuditDestination(_Message):
    topic: str
    signal_id: str | None


class AuditVersions(_Message):
    gateway: str
    contract: str | None
    agreement: str | None
    policy: str | None
    reference: str | None = Field(description="digest of the client's reference record that routing used")


class AuditRecord(_Message):
    """One decision, on ``gkt.audit`` keyed by chain id; hash-chained per inbound partition."""

    chain: str = Field(description="<inbound topic>/<partition>")
    seq: int
    prev: str = Sha256
    decided_at: str
    inbound: AuditInbound
    event: AuditEvent
    outcome: Literal["routed", "quarantined", "rejected", "duplicate"]
    reasons: list[AuditReason]
    original: InboundPosition | None
    destination: AuditDestination | None
    versions: AuditVersions
    hash: str = Sha256
    sig: str | None = Field(
        description="detached JWS by the gateway over the hash; null except at checkpoints (the last record of each "
        "chain in every write), whose signature covers every earlier record through the prev links"
    )


class SignalEvent(_Message):
    """The CloudEvent envelope of a signal; ``data`` is contracts/signal.py."""

    specversion: Literal["1.0"]
    id: str
    source: str
    type: Literal["nl.belastingdienst.gkt.signaal.schijnzelfstandigheid"]
    dataschema: Literal["urn:gkt:contract:nl.belastingdienst.gkt.signaal:1.1"]
    time: str
    datacontenttype: Literal["application/json"]
    data: Signal
