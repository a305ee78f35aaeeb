"""Decides one inbound record: read → authenticate → deduplicate → screen → contract → agreement → route.

Pure: the same record under the same rules gives the same decision (G5), with
no Kafka, clock or I/O, so the service, ``gkt check`` and replay share it.
"""

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from contracts.agreement_book import AgreementBook
from contracts.registry import ContractRegistry
from contracts.reviewer_book import ReviewerBook
from contracts.team_book import TeamBook
from gateway.decision import Decision
from gateway.inbound import CloudEvent, InboundRecord
from gateway.reasons import Outcome, Reason, ReasonCode, Stage
from gateway.stages.agreement import check_agreement
from gateway.stages.authenticate import Verify, authenticate, verify_now
from gateway.stages.contract import check_contract
from gateway.stages.deduplicate import DedupMemory, NoMemory, deduplicate
from gateway.stages.read import ReadResult, read
from gateway.stages.route import route
from gateway.stages.screen import screen
from gateway.topics import Topics
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
    reviewers: ReviewerBook
    allow_test_oins: bool = False
    trust_producer_time: bool = False  # take CreateTime records (the embedded broker keeps producers' times)
    teams: TeamBook = field(default_factory=lambda: TeamBook([]))  # who reports on signals (bd.terugkoppeling)


@dataclass(frozen=True, slots=True)
class StageResult:
    """What every stage gives back: its reasons (none when it passed), the outcome if it failed, and,
    only when asked (``--explain``), what it checked."""

    reasons: list[Reason]
    explain: Callable[[], str]
    outcome: Outcome = Outcome.REJECTED


@dataclass(frozen=True, slots=True)
class _Context:
    rules: Rules
    memory: DedupMemory
    review_lifted: bool = False  # two reviewers released it: the agreement's review flag no longer holds it
    verify: Verify = verify_now  # or the answers of checks made ahead on another core (gateway.crypto_ahead)


def _read_under(record: InboundRecord, rules: Rules) -> ReadResult:
    return read(record, allow_test_oins=rules.allow_test_oins, trust_producer_time=rules.trust_producer_time)


def _read(decision: Decision, context: _Context) -> StageResult:
    record = decision.record
    decision.read = _read_under(record, context.rules)
    size = len(record.value or b"")
    return StageResult(decision.read.reasons, lambda: f"{size} bytes: UTF-8 I-JSON, one object, CloudEvents attributes")


def _authenticate(decision: Decision, context: _Context) -> StageResult:
    event, received_at = _event(decision), decision.record.received_at
    partner = decision.partner
    decision.agreement = context.rules.agreements.governing(partner, received_at) if partner else None
    auth = authenticate(decision.record, event, decision.agreement, partner, context.verify)
    decision.kid = auth.kid
    decision.authenticated = not auth.reasons
    where = decision.agreement.ref if decision.agreement else "none"
    return StageResult(auth.reasons, lambda: f"signature by key {auth.kid} of agreement {where}; sender; time")


def _deduplicate(decision: Decision, context: _Context) -> StageResult:
    here = decision.position
    reasons, original = deduplicate(_event(decision), context.memory, here)
    if original is not None:
        decision.original, decision.original_digest = original.position, original.digest
    first = decision.original or here
    return StageResult(reasons, lambda: f"source and id first decided at {first}", Outcome.DUPLICATE)


def _screen(decision: Decision, _: _Context) -> StageResult:
    reasons = screen(_event(decision).data, decision.record.value)
    return StageResult(reasons, lambda: "no prohibited attribute anywhere in data")


def _contract(decision: Decision, context: _Context) -> StageResult:
    event, received_on = _event(decision), decision.record.received_on
    checked = check_contract(event, context.rules.contracts, received_on)
    decision.contract, decision.report = checked.contract, checked.report
    if checked.report is not None:
        decision.subject = checked.report.subject(received_on)
    key = checked.contract.key if checked.contract else f"{event.type}:{event.version}"
    return StageResult(checked.reasons, lambda: f"data against contract {key}")


def _agreement(decision: Decision, _: _Context) -> StageResult:
    # The contract stage passed: the report and its subject are there.
    assert decision.report is not None
    assert decision.subject is not None
    agreement = decision.agreement
    reasons = check_agreement(
        _event(decision), agreement, decision.report, decision.subject, decision.record.received_at
    )
    where = agreement.ref if agreement else "none"
    agreed = "in force, type and version agreed, only agreed fields, evidence strong enough"
    return StageResult(reasons, lambda: f"agreement {where}: {agreed}")


def _route(decision: Decision, context: _Context) -> StageResult:
    # The agreement stage passed: an agreement in force that agrees this report type.
    event, agreement, subject = _event(decision), decision.agreement, decision.subject
    terms = agreement.report_type(event.type) if agreement else None
    assert terms is not None
    assert subject is not None
    rules = context.rules
    decision.policy = policy = rules.policies.in_force(decision.record.received_at)
    review = terms.review and not context.review_lifted
    routed = route(subject, review, rules.reference, policy, decision.record.received_on)
    decision.reference = routed.client.digest if routed.client else None
    decision.enforcement = routed.enforcement
    if routed.enforcement is None:
        decision.destination = rules.topics.quarantine
    else:
        decision.destination = rules.topics.destination(routed.enforcement.destination)
    target = decision.destination
    return StageResult(
        routed.reasons,
        lambda: f"review flag, client reference data, policy {policy.ref}: {target}",
        Outcome.QUARANTINED,
    )


def _event(decision: Decision) -> CloudEvent:
    # Every stage after read runs only when read passed, and read passes only with an event.
    event = decision.event
    assert event is not None
    return event


STAGES: tuple[tuple[Stage, Callable[[Decision, _Context], StageResult]], ...] = (
    (Stage.READ, _read),
    (Stage.AUTHENTICATE, _authenticate),
    (Stage.DEDUPLICATE, _deduplicate),
    (Stage.SCREEN, _screen),
    (Stage.CONTRACT, _contract),
    (Stage.AGREEMENT, _agreement),
    (Stage.ROUTE, _route),
)
"""The stages of spec/wire.md, in order; the first that fails decides."""


def _run_stages(
    record: InboundRecord,
    context: _Context,
    stages: tuple[tuple[Stage, Callable[[Decision, _Context], StageResult]], ...],
    trace: list[Step] | None,
    timings: list[tuple[Stage, float]] | None,
) -> Decision:
    """Run the stages in order; the first that fails decides.

    ``trace`` collects every step (``--explain``; its text is built only then);
    ``timings`` the seconds each stage took (metrics). Neither changes the decision.
    """
    rules = context.rules
    decision = Decision(record, rules.topics.partner_of(record.position.topic), ReadResult(None, []))
    for stage, run in stages:
        started = time.perf_counter() if timings is not None else 0.0
        result = run(decision, context)
        if timings is not None:
            timings.append((stage, time.perf_counter() - started))
        if trace is not None:
            trace.append(Step(stage, not result.reasons, result.explain(), result.reasons))
        if result.reasons:
            return decision.fail(stage, result.reasons, result.outcome)
    decision.outcome = Outcome.ROUTED
    return decision


def decide(
    record: InboundRecord,
    rules: Rules,
    memory: DedupMemory,
    trace: list[Step] | None = None,
    timings: list[tuple[Stage, float]] | None = None,
    verify: Verify = verify_now,
) -> Decision:
    """Decide one record; a bug in a stage holds the record for a person instead of raising.

    A bug must neither stop the gateway (G6) nor lose the record (G1): it is
    quarantined with ``REVIEW_REQUIRED``. The service, ``gkt check`` and
    replay all decide through here, so replay reproduces such a decision. The partner's
    receipt is an ordinary ``accepted`` (with its ``signal_id`` when the event
    can be read), so it reveals nothing of the quarantine.
    """
    context = _Context(rules, memory, verify=verify)
    return _safely(record, rules, lambda: _run_stages(record, context, STAGES, trace, timings))


_AGAIN = tuple((stage, run) for stage, run in STAGES if stage is not Stage.DEDUPLICATE)


def decide_again(
    record: InboundRecord, rules: Rules, *, review_lifted: bool, trace: list[Step] | None = None
) -> Decision:
    """Decide a quarantined report again, for a recheck or release (spec/review.md).

    The same stages as ``decide`` under the rules the caller pins (the report's
    ``received_at`` picks agreement, contract and policy version; the reference
    data is the caller's), without the duplicate check. ``review_lifted``: two
    reviewers released it, so the agreement's review flag holds it no longer; a
    recheck never lifts it.
    """
    context = _Context(rules, NoMemory(), review_lifted)
    return _safely(record, rules, lambda: _run_stages(record, context, _AGAIN, trace, None))


def _safely(record: InboundRecord, rules: Rules, run: Callable[[], Decision]) -> Decision:
    try:
        return run()
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
        readable = _read_under(record, rules)
    except Exception:
        readable = ReadResult(None, [])
    decision = Decision(record, rules.topics.partner_of(record.position.topic), readable)
    decision.destination = rules.topics.quarantine
    return decision.fail(Stage.ROUTE, [Reason(ReasonCode.REVIEW_REQUIRED, None, COULD_NOT_DECIDE)], Outcome.QUARANTINED)
