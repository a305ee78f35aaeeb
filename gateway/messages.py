"""Published shapes of what the gateway reads and writes besides reports and signals.

These models are the documentation (AsyncAPI, gateway/asyncapi.py) of the
receipt, quarantine, verdict, audit and reference records. The gateway builds those
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


class OriginalReceipt(InboundPosition):
    event_digest: str | None = Field(
        description="digest of the bytes first decided under this id: compare with event_digest to see whether "
        "the retry sent other bytes (null when the gateway does not know it)"
    )


class Receipt(_Message):
    """The partner's signed proof of delivery, on ``gkt.feedback.<partner>``, keyed by event id."""

    id: str | None
    source: str | None
    inbound: InboundPosition
    event_digest: str = Sha256
    outcome: Literal["accepted", "rejected", "duplicate"]
    reasons: list[ReceiptReason]
    signal_id: str | None
    original: OriginalReceipt | None
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


class QuarantineClosed(_Message):
    """The closing record of a released or discarded item, on ``gkt.quarantine`` keyed by event id (review.md)."""

    item: str = Field(description="<topic>/<partition>/<offset> of the held report")
    status: Literal["released", "discarded"]
    at: str = Field(description="the Kafka time of the verdict that closed it")
    audit: "AuditPlace"


class AuditPlace(_Message):
    chain: str
    seq: int


class ReviewVerdict(_Message):
    """A reviewer's verdict on ``gkt.review``, keyed by item; signed by the reviewer (header gkt-signature)."""

    item: str = Field(pattern=r"^[A-Za-z0-9._-]{1,249}/[0-9]{1,9}/[0-9]{1,19}$")
    event_digest: str = Sha256
    verdict: Literal["release", "discard", "recheck"]
    grounds: str | None = Field(None, min_length=1, max_length=1000, description="required for release and discard")
    reviewer: str = Field(description="the reviewer's id in the reviewers file")
    at: str = Field(description="RFC 3339 with an offset")


class AuditInbound(InboundPosition):
    timestamp: str | None = Field(description="the Kafka time; null when it cannot be dated")


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
    reviewers: str | None = Field(None, description="verdicts only: the reviewers file (version and digest)")


class AuditReview(_Message):
    """Verdicts only: what the verdict was about; never the grounds."""

    item: str | None = Field(description="the item id; masked when the log knows no such item")
    verdict: Literal["release", "discard", "recheck"] | None
    reviewer: str | None = Field(description="the reviewer's id; null when the reviewers file does not list it")


class AuditRecord(_Message):
    """One decision, on ``gkt.audit`` keyed by chain id; hash-chained per inbound partition."""

    chain: str = Field(description="<inbound topic>/<partition>, or gkt.review/<partition> for verdicts")
    seq: int
    prev: str = Sha256
    decided_at: str
    inbound: AuditInbound
    event: AuditEvent
    outcome: Literal["routed", "quarantined", "rejected", "duplicate", "pending", "released", "discarded"]
    reasons: list[AuditReason]
    original: InboundPosition | None
    destination: AuditDestination | None
    versions: AuditVersions
    review: AuditReview | None = None
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
