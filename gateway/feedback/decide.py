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
from gateway.feedback.step import FeedbackFormatError, FeedbackStep, Readable, read_step
from gateway.inbound import InboundRecord
from gateway.pipeline import Rules
from gateway.reasons import Outcome, ReasonCode
from gateway.selection.clients import EarlierSignal
from gateway.signed_by import SignedDecision
from routing.calendar import day_of_receipt

SignalLookup = Callable[[str], EarlierSignal | None]
"""The signal with this id that the gateway routed or released, or None (``ClientMemory.signal``)."""


@dataclass
class FeedbackDecision(SignedDecision[TeamVersion]):
    """One step's decision, with what it depended on; read by the audit record."""

    readable: Readable = field(default_factory=Readable)  # what the record says, in our form where it has it
    signal: EarlierSignal | None = None  # the signal named, when the gateway routed or released it

    @property
    def team(self) -> str | None:
        """The team's id once its signature verified; before that it is the sender's word."""
        return self.readable.team if self.verified else None

    @property
    def signal_id(self) -> str | None:
        """The signal id named: in clear when it is a signal of ours, else masked (the sender's word, G7)."""
        named = self.readable.signal_id
        if named is None:
            return None
        return named if self.signal is not None else masked(named, 64)


def decide_feedback(record: InboundRecord, rules: Rules, signals: SignalLookup) -> FeedbackDecision:
    """Decide ``record``: readable, keyed by its signal, signed by its team, about a signal of ours, dated sensibly."""
    invalid = ReasonCode.FEEDBACK_INVALID
    step = _read(record)
    decision = FeedbackDecision(record, readable=step.readable)
    named = decision.readable.signal_id
    decision.signal = signals(named) if named is not None else None  # also to know whether to mask the id
    if not decision.dated(invalid, trust_producer_time=rules.trust_producer_time):
        return decision
    if isinstance(step, FeedbackFormatError):
        return decision.fail(invalid, str(step))
    if record.key != step.signal_id.encode():
        # Keyed by signal: every step on a signal lands on one partition, in order.
        return decision.fail(invalid, "key is not the signaalId: the record's Kafka key must be the signal id")
    if not decision.signed_by(rules.teams, step.team, invalid, allow_test=rules.allow_test_oins):
        return decision
    signal = decision.signal
    if signal is None:
        return decision.fail(invalid, "unknown signaalId: the gateway routed or released no signal with this id")
    if step.on < day_of_receipt(from_millis(signal.received_ms)):
        return decision.fail(invalid, "op is before the signal's ontvangenOp (Dutch date)")
    if step.on > day_of_receipt(record.received_at):
        return decision.fail(invalid, "op is after the day the step was received: a step cannot be dated ahead")
    decision.outcome = Outcome.RECORDED
    return decision


def _read(record: InboundRecord) -> FeedbackStep | FeedbackFormatError:
    """The step, or why it is none (with what could be read of it): the value is parsed once."""
    try:
        return read_step(record.value)
    except FeedbackFormatError as exc:
        return exc
