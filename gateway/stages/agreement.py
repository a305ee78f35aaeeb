"""Stage 6, agreement: what this partner agreed to send, and whether it is strong enough."""

from datetime import datetime

from contracts.agreement import Agreement, ReportTypeAgreement
from contracts.base import ContractModel, ReportSubject
from contracts.masking import pointer
from gateway.inbound import CloudEvent
from gateway.reasons import Reason, ReasonCode


def check_agreement(
    event: CloudEvent,
    agreement: Agreement | None,
    report: ContractModel,
    subject: ReportSubject,
    received_at: datetime,
) -> list[Reason]:
    if agreement is None or not agreement.in_force.contains(received_at):
        return [
            Reason(
                ReasonCode.AGREEMENT_NOT_IN_FORCE,
                None,
                "no working agreement is in force at the time of receipt",
            )
        ]
    terms = agreement.report_type(event.type)
    if terms is None:
        return [Reason(ReasonCode.REPORT_TYPE_NOT_AGREED, "/type", "this report type is not agreed")]
    version_reason = _version(terms, event.version, received_at)
    if version_reason is not None:
        return [version_reason]
    return _fields(terms, report) + _evidence(terms, subject)


def _version(terms: ReportTypeAgreement, version: str, received_at: datetime) -> Reason | None:
    if version not in terms.versions:
        return Reason(ReasonCode.REPORT_TYPE_NOT_AGREED, "/dataschema", f"version {version} is not agreed")
    sunset = terms.sunset.get(version)
    if sunset is not None and received_at > sunset:
        return Reason(
            ReasonCode.REPORT_TYPE_NOT_AGREED,
            "/dataschema",
            f"version {version} is refused since {sunset.isoformat()}; use {terms.versions[-1]}",
        )
    return None


def _fields(terms: ReportTypeAgreement, report: ContractModel) -> list[Reason]:
    return [
        Reason(ReasonCode.FIELD_NOT_AGREED, pointer("data", *path), "this field is not agreed")
        for path in terms.optional_fields_check.refused(report)
    ]


def _evidence(terms: ReportTypeAgreement, subject: ReportSubject) -> list[Reason]:
    rule = terms.evidence
    reasons = []
    if subject.oordeel != rule.oordeel:
        reasons.append(Reason(ReasonCode.EVIDENCE_INSUFFICIENT, "/data/oordeel", f"oordeel must be {rule.oordeel}"))
    codes = set(subject.indicatoren)
    if len(codes) < rule.min_indicatoren:
        reasons.append(
            Reason(
                ReasonCode.EVIDENCE_INSUFFICIENT,
                "/data/indicatoren",
                f"at least {rule.min_indicatoren} distinct indicators are needed",
            )
        )
    if rule.requires_any and not codes & {code.value for code in rule.requires_any}:
        names = ", ".join(code.value for code in rule.requires_any)
        reasons.append(
            Reason(
                ReasonCode.EVIDENCE_INSUFFICIENT,
                "/data/indicatoren",
                f"at least one of {names} is needed",
            )
        )
    return reasons
