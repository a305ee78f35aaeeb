"""The outcome of deciding one inbound record, with everything it depended on."""

import uuid
from dataclasses import dataclass, field
from functools import cached_property

from contracts.agreement import Agreement
from contracts.base import ContractModel, ReportContract, ReportSubject
from gateway.inbound import CloudEvent, InboundRecord, Position
from gateway.reasons import Outcome, Reason, Stage, at_most
from gateway.stages.read import ReadResult
from gateway.types import KeyId, PartnerId
from routing.policy import Enforcement, Policy


def signal_id_for(source: str, event_id: str) -> str:
    """``uuid5(NAMESPACE_URL, "urn:gkt:signal:" + source + ":" + id)``: predictable by the partner."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:gkt:signal:{source}:{event_id}"))


@dataclass
class Decision:
    """One record's decision; built by gateway.pipeline, read by outputs and audit."""

    record: InboundRecord
    partner: PartnerId | None
    read: ReadResult
    outcome: Outcome = Outcome.REJECTED
    stage: Stage | None = None
    reasons: list[Reason] = field(default_factory=list)
    kid: KeyId | None = None
    authenticated: bool = False
    agreement: Agreement | None = None
    contract: ReportContract | None = None
    report: ContractModel | None = None
    policy: Policy | None = None
    subject: ReportSubject | None = None
    enforcement: Enforcement | None = None
    original: Position | None = None  # a duplicate's first decision
    original_digest: str | None = None  # and the digest of the bytes decided there, when the log shows it
    destination: str | None = None
    reference: str | None = None  # digest of the client's reference record used to route

    @property
    def position(self) -> Position:
        return self.record.position

    @property
    def event(self) -> CloudEvent | None:
        return self.read.event

    @cached_property
    def signal_id(self) -> str | None:
        event = self.event
        return signal_id_for(event.source, event.id) if event is not None else None

    def fail(self, stage: Stage, reasons: list[Reason], outcome: Outcome = Outcome.REJECTED) -> "Decision":
        self.stage, self.reasons, self.outcome = stage, at_most(reasons), outcome
        return self
