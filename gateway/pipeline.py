"""Decides one inbound record: read → authenticate → deduplicate → screen → contract → agreement → route.

Pure: the same record under the same rules gives the same decision (G5), with
no Kafka, clock or I/O, so the service, ``gkt check`` and replay share it.
"""

import time
import traceback
from dataclasses import dataclass

import structlog

from contracts.agreement_book import AgreementBook
from contracts.registry import ContractRegistry
from gateway.decision import Decision
from gateway.inbound import InboundRecord
from gateway.reasons import Outcome, Reason, ReasonCode, Stage
from gateway.stages.agreement import check_agreement
from gateway.stages.authenticate import authenticate
from gateway.stages.contract import check_contract
from gateway.stages.deduplicate import DedupMemory, deduplicate
from gateway.stages.read import ReadResult, read
from gateway.stages.route import route
from gateway.stages.screen import screen
from gateway.topics import Topics
from routing.calendar import day_of_receipt
from routing.policy import PolicyBook
from routing.reference import ClientLookup

log = structlog.get_logger("gkt.pipeline")
COULD_NOT_DECIDE = "the gateway could not decide this record"


@dataclass(frozen=True, slots=True)
class Step:
    """One stage of one decision, for ``gkt audit replay --explain``."""

    stage: Stage
    passed: bool
    checked: str
    reasons: list[Reason]


@dataclass(frozen=True)
class Rules:
    """Everything a decision depends on besides the record and the duplicate memory."""

    contracts: ContractRegistry
    agreements: AgreementBook
    policies: PolicyBook
    reference: ClientLookup
    topics: Topics
    allow_test_oins: bool = False


def _run_stages(  # noqa: PLR0915 - seven stages in a row; the architecture issue (#10) turns them into a loop
    record: InboundRecord,
    rules: Rules,
    memory: DedupMemory,
    trace: list[Step] | None,
    timings: list[tuple[Stage, float]] | None,
) -> Decision:
    """Run the stages in order; the first that fails decides.

    ``trace`` collects every step (``--explain``); ``timings`` the seconds each
    stage took (metrics). Neither changes the decision.
    """
    clock = [time.perf_counter()] if timings is not None else []

    def step(stage: Stage, reasons: list[Reason], checked: str) -> bool:
        if trace is not None:
            trace.append(Step(stage, not reasons, checked, reasons))
        if timings is not None:
            now = time.perf_counter()
            timings.append((stage, now - clock[0]))
            clock[0] = now
        return bool(reasons)

    partner = rules.topics.partner_of(record.position.topic)
    decision = Decision(record, partner, read(record, allow_test_oins=rules.allow_test_oins))
    event = decision.event
    size = len(record.value or b"")
    if step(Stage.READ, decision.read.reasons, f"{size} bytes: UTF-8 JSON, one object, CloudEvents attributes"):
        return decision.fail(Stage.READ, decision.read.reasons)
    assert event is not None
    received_at = record.received_at

    agreement = rules.agreements.governing(partner, received_at) if partner else None
    decision.agreement = agreement
    auth = authenticate(record, event, agreement)
    decision.kid = auth.kid
    where = agreement.ref if agreement else "none"
    if step(Stage.AUTHENTICATE, auth.reasons, f"signature by key {auth.kid} of agreement {where}; sender; time"):
        return decision.fail(Stage.AUTHENTICATE, auth.reasons)
    decision.authenticated = True

    duplicate, original = deduplicate(event, memory, record.position)
    if step(Stage.DEDUPLICATE, duplicate, f"source and id first decided at {original or record.position}"):
        decision.original = original
        return decision.fail(Stage.DEDUPLICATE, duplicate, Outcome.DUPLICATE)

    prohibited = screen(event.data)
    if step(Stage.SCREEN, prohibited, "no prohibited attribute anywhere in data"):
        return decision.fail(Stage.SCREEN, prohibited)

    received_on = day_of_receipt(received_at)
    checked = check_contract(event, rules.contracts, received_on)
    decision.contract = checked.contract
    contract_key = checked.contract.key if checked.contract else f"{event.type}:{event.version}"
    if step(Stage.CONTRACT, checked.reasons, f"data against contract {contract_key}") or checked.report is None:
        return decision.fail(Stage.CONTRACT, checked.reasons)
    subject = checked.report.subject(received_on)
    decision.subject = subject

    refused = check_agreement(event, agreement, checked.report, subject, received_at)
    agreed = "in force, type and version agreed, only agreed fields, evidence strong enough"
    if step(Stage.AGREEMENT, refused, f"agreement {where}: {agreed}") or agreement is None:
        return decision.fail(Stage.AGREEMENT, refused)
    terms = agreement.report_type(event.type)
    assert terms is not None  # check_agreement refuses a type that is not agreed

    policy = rules.policies.in_force(received_at)
    decision.policy = policy
    routed = route(subject, terms, rules.reference, policy, received_on)
    decision.reference = routed.client.digest if routed.client else None
    target = routed.enforcement.destination if routed.enforcement else rules.topics.quarantine
    step(Stage.ROUTE, routed.reasons, f"review flag, client reference data, policy {policy.ref}: {target}")
    if routed.reasons or routed.enforcement is None:
        decision.destination = rules.topics.quarantine
        return decision.fail(Stage.ROUTE, routed.reasons, Outcome.QUARANTINED)
    decision.enforcement = routed.enforcement
    decision.destination = rules.topics.destination(routed.enforcement.destination)
    decision.outcome = Outcome.ROUTED
    return decision


def decide(
    record: InboundRecord,
    rules: Rules,
    memory: DedupMemory,
    trace: list[Step] | None = None,
    timings: list[tuple[Stage, float]] | None = None,
) -> Decision:
    """Decide one record; a bug in a stage holds the record for a person instead of raising.

    A bug must neither stop the gateway (G6) nor lose the record (G1): it is
    quarantined with ``REVIEW_REQUIRED``. The service, ``gkt check`` and
    replay all decide through here, so replay reproduces such a decision. The partner's
    receipt is an ordinary ``accepted`` (with its ``signal_id`` when the event
    can be read), so it reveals nothing of the quarantine.
    """
    try:
        return _run_stages(record, rules, memory, trace, timings)
    except Exception as exc:
        # The message may quote the record: log where it happened, never what it said.
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        log.error(
            "decision_failed",
            inbound=str(record.position),
            error=type(exc).__name__,
            at=f"{frame.filename}:{frame.lineno}",
        )
    try:
        readable = read(record, allow_test_oins=rules.allow_test_oins)
    except Exception:
        readable = ReadResult(None, [])
    decision = Decision(record, rules.topics.partner_of(record.position.topic), readable)
    decision.destination = rules.topics.quarantine
    return decision.fail(Stage.ROUTE, [Reason(ReasonCode.REVIEW_REQUIRED, None, COULD_NOT_DECIDE)], Outcome.QUARANTINED)
