"""Stage 7, route: reference data and the enforcement policy pick the destination.

A report that cannot be routed with confidence is quarantined for human review:
when its agreement asks for review, the client is not in the reference data, or
the reference data does not say enough for the policy to pick a route.
"""

from dataclasses import dataclass
from datetime import date

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
    review: bool,
    reference: ClientLookup,
    policy: Policy,
    received_on: date,
) -> RouteResult:
    """``review``: the agreement asks for review of this report type, and no two reviewers lifted that yet."""
    reasons = []
    if review:
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
    enforcement = policy.enforce(subject, client, received_on)
    if enforcement is None:
        # No route of the policy fits what the reference data says (version 2: an HT client without a level).
        detail = "HT level unknown" if client.horizontaalToezichtLoonheffingen else "no route for this client"
        return RouteResult(
            [Reason(ReasonCode.REFERENCE_UNKNOWN, "/data/opdrachtgever/kvkNummer", detail)], client=client
        )
    return RouteResult([], enforcement, client)
