"""Stage 5, contract: the report against the contract its ``dataschema`` names."""

from dataclasses import dataclass
from datetime import date

from contracts.base import ContractModel, ReportContract, Violation
from contracts.registry import ContractRegistry
from gateway.inbound import CloudEvent
from gateway.reasons import Reason, ReasonCode


@dataclass(frozen=True, slots=True)
class ContractResult:
    reasons: list[Reason]
    contract: ReportContract | None = None
    report: ContractModel | None = None


def check_contract(event: CloudEvent, registry: ContractRegistry, received_on: date) -> ContractResult:
    contract = registry.get(event.type, event.version)
    if contract is None:
        known = registry.versions(event.type)
        detail = (
            f"no contract {event.type} version {event.version}; known: {', '.join(known)}"
            if known
            else f"no report type {event.type}"
        )
        return ContractResult([Reason(ReasonCode.CONTRACT_UNKNOWN, "/dataschema", detail)])
    report, violations = contract.validate(event.data, received_on)
    return ContractResult([reason_for(v) for v in violations], contract, report)


def reason_for(violation: Violation) -> Reason:
    """A contract's violation as the reason code of spec/wire.md."""
    code = ReasonCode.IDENTIFIER_INVALID if violation.identifier else ReasonCode.CONTRACT_VIOLATION
    return Reason(code, violation.path, violation.detail)
