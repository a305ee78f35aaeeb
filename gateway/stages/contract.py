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
    reasons = [reason_for(v) for v in violations]
    if violations and (fits := _version_that_fits(registry, event, received_on)) is not None:
        detail = f"the data fits version {fits} of {event.type}, not {event.version}: is dataschema the right version?"
        reasons.append(Reason(ReasonCode.CONTRACT_VIOLATION, "/dataschema", detail))
    return ContractResult(reasons, contract, report)


def _version_that_fits(registry: ContractRegistry, event: CloudEvent, received_on: date) -> str | None:
    """Another version of the report type that takes the data as it is: a hint for a mislabelled report.

    Only on the refusal path, and a report type has a handful of versions.
    """
    for version in registry.versions(event.type):
        other = registry.get(event.type, version)
        if version != event.version and other is not None and not other.validate(event.data, received_on)[1]:
            return version
    return None


def reason_for(violation: Violation) -> Reason:
    """A contract's violation as the reason code of spec/wire.md."""
    code = ReasonCode.IDENTIFIER_INVALID if violation.identifier else ReasonCode.CONTRACT_VIOLATION
    return Reason(code, violation.path, violation.detail)
