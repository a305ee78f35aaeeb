"""Decides one team's step on ``bd.terugkoppeling`` (spec/selection.md, "Feedback from detection").

Pure: the record, the rules (the teams file) and the signals the gateway
routed or released (the client memory, rebuilt from the audit log) give the
same decision every time. A step is ``recorded`` or ``rejected`` with
``FEEDBACK_INVALID``; either way it writes nothing but its audit record: no
partner learns anything of it (fiscal secrecy).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from contracts.jsonio import from_millis
from contracts.masking import masked
from contracts.team_book import TeamVersion
from gateway.feedback.step import FeedbackFormatError, FeedbackStep, Readable, read_readable, read_step
from gateway.inbound import InboundRecord, Position
from gateway.pipeline import Rules
from gateway.reasons import Outcome, Reason, ReasonCode
from gateway.selection.clients import EarlierSignal
from gateway.signed_by import signed_by
from gateway.stages.read import untrusted_time
from gateway.types import KeyId
from routing.calendar import day_of_receipt

SignalLookup = Callable[[str], EarlierSignal | None]
"""The signal with this id that the gateway routed or released, or None (``ClientMemory.signal``)."""


@dataclass
class FeedbackDecision:
    """One step's decision, with what it depended on; read by the audit record."""

    record: InboundRecord
    outcome: Outcome = Outcome.REJECTED
    reasons: list[Reason] = field(default_factory=list)
    step: FeedbackStep | None = None
    readable: Readable = field(default_factory=Readable)
    kid: KeyId | None = None  # as the teams file lists it; masked when it lists no such key (G7)
    teams: TeamVersion | None = None
    signal: EarlierSignal | None = None  # the signal named, when the gateway routed or released it
    verified: bool = False  # the team's signature verified: only then is the claimed team recorded

    @property
    def position(self) -> Position:
        return self.record.position

    @property
    def team(self) -> str | None:
        """The team's id once its signature verified; before that it is the sender's word."""
        return self.step.team if self.step is not None and self.verified else None

    @property
    def signal_id(self) -> str | None:
        """The signal id named: in clear when it is a signal of ours, else masked (the sender's word, G7)."""
        named = self.step.signal_id if self.step is not None else self.readable.signal_id
        if named is None:
            return None
        return named if self.signal is not None else masked(named, 64)

    def fail(self, detail: str, code: ReasonCode = ReasonCode.FEEDBACK_INVALID) -> "FeedbackDecision":
        self.outcome, self.reasons = Outcome.REJECTED, [Reason(code, None, detail)]
        return self


def decide_feedback(record: InboundRecord, rules: Rules, signals: SignalLookup) -> FeedbackDecision:
    """Decide ``record``: readable, keyed by its signal, signed by its team, about a signal of ours, dated sensibly."""
    decision = FeedbackDecision(record, readable=read_readable(record.value))
    untrusted = untrusted_time(record, trust_producer_time=rules.trust_producer_time)
    if untrusted is not None:
        return decision.fail(untrusted.detail, untrusted.code)
    if not record.dated:
        return decision.fail("the Kafka timestamp is outside 1970-9999: cannot be dated")
    decision.signal = signals(decision.readable.signal_id) if decision.readable.signal_id else None
    try:
        step = decision.step = read_step(record.value)
    except FeedbackFormatError as exc:
        return decision.fail(str(exc))
    if record.key != step.signal_id.encode():
        # Keyed by signal: every step on a signal lands on one partition, in order.
        return decision.fail("key is not the signaalId: the record's Kafka key must be the signal id")
    checked = signed_by(record, rules.teams, step.team, allow_test=rules.allow_test_oins)
    decision.teams, decision.kid = checked.version, checked.kid  # type: ignore[assignment]
    if checked.failure is not None:
        return decision.fail(checked.failure)
    decision.verified = True
    signal = decision.signal
    if signal is None:
        return decision.fail("unknown signaalId: the gateway routed or released no signal with this id")
    if step.on < day_of_receipt(from_millis(signal.received_ms)):
        return decision.fail("op is before the signal's ontvangenOp (Dutch date)")
    if step.on > day_of_receipt(record.received_at):
        return decision.fail("op is after the day the step was received: a step cannot be dated ahead")
    decision.outcome = Outcome.RECORDED
    return decision
