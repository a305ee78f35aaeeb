"""Stage 7, route: reference data and the enforcement policy pick the destination.

A report that cannot be routed with confidence is quarantined for human review:
when its agreement asks for review, or the client is not in the reference data.
"""

from dataclasses import dataclass
from datetime import datetime

from contracts.agreement import ReportTypeAgreement
from contracts.base import ReportSubject
from gateway.reasons import Reason, ReasonCode
from routing.policy import Enforcement, Policy
from routing.reference import ClientLookup, ReferenceRecord


@dataclass(frozen=True, slots=True)
class RouteResult:
    reasons: list[Reason]
    enforcement: Enforcement | None = None
    client: ReferenceRecord | None = None


def route(
    subject: ReportSubject,
    terms: ReportTypeAgreement,
    reference: ClientLookup,
    policy: Policy,
    received_at: datetime,
) -> RouteResult:
    reasons = []
    if terms.review:
        reasons.append(
            Reason(
                ReasonCode.REVIEW_REQUIRED,
                None,
                "the agreement asks for review of this report type",
            )
        )
    client = reference.get(str(subject.opdrachtgever["kvkNummer"]))
    if client is None:
        reasons.append(
            Reason(
                ReasonCode.REFERENCE_UNKNOWN,
                "/data/opdrachtgever/kvkNummer",
                "the client is not in the reference data",
            )
        )
    if reasons or client is None:
        return RouteResult(reasons, client=client)
    return RouteResult([], policy.enforce(subject, client, received_at), client)
