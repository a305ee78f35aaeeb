"""Decides one verdict on ``gkt.review`` (spec/review.md, "How the gateway decides a verdict").

Pure like ``gateway.pipeline``: the verdict record, the rules, what the audit
log says about the item (``ReviewState``) and the held report's own inbound
record give the same decision every time, so replay reproduces it.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from contracts.masking import masked
from contracts.reviewer_book import ReviewerVersion
from gateway.decision import Decision
from gateway.inbound import InboundRecord, Position
from gateway.pipeline import Rules, decide_again
from gateway.reasons import Outcome, Reason, ReasonCode
from gateway.review.state import Item, ReviewState
from gateway.review.verdict import Verdict, VerdictFormatError, VerdictKind, read_verdict
from gateway.signed_by import SignedDecision

REVIEWERS_NEEDED = 2  # vier-ogenprincipe: release and discard need two different reviewers
REPORT_GONE = "the held report is no longer on its inbound topic, so it cannot be decided again"


@dataclass
class VerdictDecision(SignedDecision[ReviewerVersion]):
    """One verdict's decision, with everything it depended on; built here, read by outputs and audit."""

    verdict: Verdict | None = None
    item: Item | None = None  # the open item the verdict is about
    named_item: str | None = None  # the item id it names: masked unless the audit log knows that item (G7)
    report: Decision | None = None  # the held report decided again (recheck, or the second release)

    @property
    def reviewer(self) -> str | None:
        """The reviewer's id once their signature verified; before that it is the sender's word, and recording
        it would pin an attempt on the person named (spec/review.md)."""
        verdict = self.verdict
        return verdict.reviewer if verdict is not None and self.verified else None


def decide_verdict(
    record: InboundRecord,
    rules: Rules,
    state: ReviewState,
    reports: Mapping[Position, InboundRecord],
) -> VerdictDecision:
    """Decide ``record`` (a verdict); ``reports`` holds the inbound record of the item it names, when still there."""
    decision = VerdictDecision(record)
    authentic = _authentic(decision, rules)
    if decision.verdict is not None:
        named = decision.verdict.item
        decision.named_item = str(named) if state.known(named) else masked(str(named), 64)
    if not authentic:
        return decision
    verdict = decision.verdict
    assert verdict is not None, "an authentic verdict was read"
    item = state.item(verdict.item)
    if item is None:
        closed = state.closed(verdict.item)
        why = f"the item was {closed.value} before" if closed else "no report is held under this item id"
        return decision.fail(ReasonCode.ITEM_NOT_OPEN, why)
    decision.item = item
    held_since = item.received
    if held_since is not None and record.received_at < held_since:
        return decision.fail(
            ReasonCode.VERDICT_INVALID, "dated before the item: the verdict was received before the report"
        )
    if verdict.event_digest != item.digest:
        return decision.fail(ReasonCode.ITEM_NOT_OPEN, "event_digest is not the digest of the held report")
    given = state.given(item.position)
    if any(g.reviewer == verdict.reviewer for g in given):
        return decision.fail(ReasonCode.VERDICT_REPEATED, "this reviewer gave a verdict on this item before")
    if verdict.kind is VerdictKind.RECHECK:
        # The rules decide, not the reviewer: a review flag holds unless two reviewers released already.
        released_by = sum(g.kind is VerdictKind.RELEASE for g in given)
        return _decide_again(decision, rules, reports, review_lifted=released_by >= REVIEWERS_NEEDED)
    if 1 + sum(g.kind is verdict.kind for g in given) < REVIEWERS_NEEDED:
        decision.outcome = Outcome.PENDING
        return decision
    if verdict.kind is VerdictKind.DISCARD:
        decision.outcome = Outcome.DISCARDED
        return decision
    return _decide_again(decision, rules, reports, review_lifted=True)


def _decide_again(
    decision: VerdictDecision, rules: Rules, reports: Mapping[Position, InboundRecord], *, review_lifted: bool
) -> VerdictDecision:
    """Route the held report now: released when it routes, else pending with what still holds it."""
    assert decision.item is not None
    report = reports.get(decision.item.position)
    if report is None:
        decision.outcome, decision.reasons = Outcome.PENDING, [Reason(ReasonCode.REVIEW_REQUIRED, None, REPORT_GONE)]
        return decision
    decision.report = again = decide_again(report, rules, review_lifted=review_lifted)
    if again.outcome is Outcome.ROUTED:
        decision.outcome = Outcome.RELEASED
    else:
        decision.outcome, decision.reasons = Outcome.PENDING, again.reasons
    return decision


def _authentic(decision: VerdictDecision, rules: Rules) -> bool:
    """Step 1: dated by the broker, readable, and signed by a key of ``reviewer`` valid at that moment."""
    invalid = ReasonCode.VERDICT_INVALID
    if not decision.dated(invalid, trust_producer_time=rules.trust_producer_time):
        return False
    try:
        verdict = decision.verdict = read_verdict(decision.record.value)
    except VerdictFormatError as exc:
        decision.fail(invalid, str(exc))
        return False
    if decision.record.key != str(verdict.item).encode():
        # One partition, keyed by item: every verdict on an item reaches one process, in order (wire.md).
        decision.fail(invalid, "key is not the item: the record's Kafka key must be the item id")
        return False
    return decision.signed_by(rules.reviewers, verdict.reviewer, invalid, allow_test=rules.allow_test_oins)
