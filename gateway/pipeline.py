"""Decides one inbound record: read → authenticate → deduplicate → screen → contract → agreement → route.

Pure: the same record under the same rules gives the same decision (G5), with
no Kafka, clock or I/O, so the service, ``gkt check`` and replay share it.
"""

from dataclasses import dataclass

from contracts.agreement_book import AgreementBook
from contracts.registry import ContractRegistry
from gateway.decision import Decision
from gateway.inbound import InboundRecord
from gateway.reasons import Outcome, Stage
from gateway.stages.agreement import check_agreement
from gateway.stages.authenticate import authenticate
from gateway.stages.contract import check_contract
from gateway.stages.deduplicate import DedupMemory, deduplicate
from gateway.stages.read import read
from gateway.stages.route import route
from gateway.stages.screen import screen
from gateway.topics import Topics
from routing.policy import PolicyBook
from routing.reference import ReferenceTable


@dataclass(frozen=True)
class Rules:
    """Everything a decision depends on besides the record and the duplicate memory."""

    contracts: ContractRegistry
    agreements: AgreementBook
    policies: PolicyBook
    reference: ReferenceTable
    topics: Topics
    allow_test_oins: bool = False


def decide(record: InboundRecord, rules: Rules, memory: DedupMemory) -> Decision:
    partner = rules.topics.partner_of(record.position.topic)
    decision = Decision(record, partner, read(record, allow_test_oins=rules.allow_test_oins))
    event = decision.event
    if event is None:
        return decision.fail(Stage.READ, decision.read.reasons)
    received_at = record.received_at

    agreement = rules.agreements.governing(partner, received_at) if partner else None
    decision.agreement = agreement
    auth = authenticate(record, event, agreement)
    decision.kid = auth.kid
    if auth.reasons:
        return decision.fail(Stage.AUTHENTICATE, auth.reasons)
    decision.authenticated = True

    duplicate, original = deduplicate(event, memory, record.position)
    if duplicate:
        decision.original = original
        return decision.fail(Stage.DEDUPLICATE, duplicate, Outcome.DUPLICATE)

    prohibited = screen(event.data)
    if prohibited:
        return decision.fail(Stage.SCREEN, prohibited)

    checked = check_contract(event, rules.contracts, received_at.date())
    decision.contract = checked.contract
    if checked.reasons or checked.contract is None or checked.report is None:
        return decision.fail(Stage.CONTRACT, checked.reasons)
    subject = checked.report.subject(received_at.date())
    decision.subject = subject

    refused = check_agreement(event, agreement, checked.report, subject, received_at)
    if refused or agreement is None:
        return decision.fail(Stage.AGREEMENT, refused)
    terms = agreement.report_type(event.type)
    assert terms is not None  # check_agreement refuses a type that is not agreed

    policy = rules.policies.in_force(received_at)
    decision.policy = policy
    routed = route(subject, terms, rules.reference, policy, received_at)
    if routed.reasons or routed.enforcement is None:
        decision.destination = rules.topics.quarantine
        return decision.fail(Stage.ROUTE, routed.reasons, Outcome.QUARANTINED)
    decision.enforcement = routed.enforcement
    decision.destination = rules.topics.destination(routed.enforcement.destination)
    decision.outcome = Outcome.ROUTED
    return decision
