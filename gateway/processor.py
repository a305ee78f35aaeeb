"""Decides a batch of inbound records and builds everything they write.

No Kafka here: the service hands in plain records and chain heads, and gets
back the output messages, the audit records, and the offsets to commit. One
chain per inbound partition; records at or below a chain's head offset were
decided before (by this process or an earlier owner) and are skipped (G1).
Verdicts on ``gkt.review`` are decided the same way, in chains of their own
(spec/review.md), with the held reports they name handed in by the service.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.audit.index import AuditIndex
from gateway.audit.record import (
    ChainHead,
    Sealed,
    audit_record,
    feedback_audit_record,
    seal,
    sign_checkpoint,
    verdict_audit_record,
)
from gateway.crypto_ahead import CryptoAhead, CryptoBatch
from gateway.decision import Decision
from gateway.feedback.decide import FeedbackDecision, decide_feedback
from gateway.inbound import InboundRecord, Position
from gateway.messages import AuditBody
from gateway.outputs import OutMessage, messages_for
from gateway.pipeline import Rules, decide
from gateway.reasons import Outcome, Stage
from gateway.review.decide import VerdictDecision, decide_verdict
from gateway.review.outputs import verdict_messages
from gateway.review.state import ReviewState
from gateway.review.verdict import VerdictFormatError, read_verdict
from gateway.selection.history import ClientHistory
from gateway.signing import Signer
from gateway.types import ChainId


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class BatchResult:
    outputs: list[OutMessage] = field(default_factory=list)
    audits: list[OutMessage] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    verdicts: list[VerdictDecision] = field(default_factory=list)
    feedback: list[FeedbackDecision] = field(default_factory=list)
    timings: list[tuple[Stage, float]] = field(default_factory=list)
    skipped: int = 0
    commit: dict[tuple[str, int], int] = field(default_factory=dict)
    heads: dict[ChainId, ChainHead] = field(default_factory=dict)  # of the chains ``audits`` continue, after them


class Processor:
    def __init__(
        self,
        rules: Rules,
        signer: Signer,
        index: AuditIndex,
        gateway_source: str,
        clock: Callable[[], datetime] = _now,
        review: ReviewState | None = None,
        crypto_helper: bool = False,
        clients: ClientHistory | None = None,
    ) -> None:
        """``clients``: the client memory of spec/selection.md; without one (tests of other things, ``gkt check``)
        signals say ``eerdereSignalen: null`` and audit records name no client."""
        self.rules = rules
        self.signer = signer
        self.index = index
        self.review = review if review is not None else ReviewState()
        self.gateway_source = gateway_source
        self.clock = clock
        self.crypto = CryptoAhead(crypto_helper, signer)
        self.clients = clients

    def held_reports(self, records: list[InboundRecord]) -> set[Position]:
        """Held reports the verdicts among ``records`` name and may decide again: the service fetches them first."""
        wanted: set[Position] = set()
        for record in records:
            if record.position.topic != self.rules.topics.review:
                continue
            try:
                item = read_verdict(record.value).item
            except VerdictFormatError:
                continue
            if self.review.item(item) is not None:
                wanted.add(item)
        return wanted

    def process(
        self,
        records: list[InboundRecord],
        heads: dict[ChainId, ChainHead],
        reports: Mapping[Position, InboundRecord] | None = None,
    ) -> BatchResult:
        """Decide ``records`` (any partitions, each in offset order), advancing ``heads``.

        ``reports``: the inbound records of held reports that verdicts in ``records`` name (``held_reports``).
        """
        result = BatchResult()
        sealed_by_chain: dict[ChainId, list[Sealed]] = {}
        review_topic, feedback_topic = self.rules.topics.review, self.rules.topics.terugkoppeling
        ahead = self.crypto.start(
            [r for r in records if r.position.offset > heads[r.position.chain].offset], self.rules
        )
        try:
            for record in records:
                position = record.position
                result.commit[(position.topic, position.partition)] = position.offset + 1
                head = heads[position.chain]
                if position.offset <= head.offset:
                    result.skipped += 1
                    continue
                decided_at = self.clock()
                if position.topic == review_topic:
                    unsealed = self._verdict(record, head, decided_at, reports or {}, result, ahead)
                elif position.topic == feedback_topic:
                    unsealed = self._feedback(record, head, decided_at, result)
                else:
                    unsealed = self._report(record, head, decided_at, result, ahead)
                sealed = seal(unsealed)
                heads[position.chain] = head.next(sealed.record)
                self.review.apply(sealed.record)  # own chains are not read back from the log
                sealed_by_chain.setdefault(position.chain, []).append(sealed)
        finally:
            ahead.finish()
        result.outputs = [message.complete() for message in result.outputs]
        # One signature per chain and write (spec/audit.md, checkpoints): its last record vouches for the rest.
        for chain, sealed_records in sealed_by_chain.items():
            sign_checkpoint(sealed_records[-1].record, self.signer)
            audit_topic, key = self.rules.topics.audit, chain.encode()
            result.audits += [OutMessage(audit_topic, key, sealed.encoded()) for sealed in sealed_records]
            result.heads[chain] = heads[chain]
        return result

    def _report(
        self,
        record: InboundRecord,
        head: ChainHead,
        decided_at: datetime,
        result: BatchResult,
        ahead: CryptoBatch,
    ) -> AuditBody:
        position = record.position
        decision = decide(record, self.rules, self.index, timings=result.timings, verify=ahead.verify)
        if decision.authenticated and decision.event is not None:
            self.index.remember(decision.event.source, decision.event.id, position, record.timestamp_ms, record.digest)
        routed = decision.outcome is Outcome.ROUTED
        selected = self.clients.signal(decision) if routed and self.clients is not None else None
        result.outputs += messages_for(
            decision,
            position.chain,
            head.seq + 1,
            decided_at,
            self.rules.topics,
            ahead.signer,
            self.gateway_source,
            selected,
        )
        result.decisions.append(decision)
        return audit_record(decision, head, decided_at, selected)

    def _verdict(
        self,
        record: InboundRecord,
        head: ChainHead,
        decided_at: datetime,
        reports: Mapping[Position, InboundRecord],
        result: BatchResult,
        ahead: CryptoBatch,
    ) -> AuditBody:
        decision = decide_verdict(record, self.rules, self.review, reports)
        chain, seq = record.position.chain, head.seq + 1
        report = decision.report if decision.outcome is Outcome.RELEASED else None
        selected = self.clients.signal(report) if report is not None and self.clients is not None else None
        topics, signer, source = self.rules.topics, ahead.signer, self.gateway_source
        result.outputs += verdict_messages(decision, chain, seq, topics, signer, source, selected)
        result.verdicts.append(decision)
        return verdict_audit_record(decision, head, decided_at, selected)

    def _feedback(self, record: InboundRecord, head: ChainHead, decided_at: datetime, result: BatchResult) -> AuditBody:
        """A team's step: its audit record and nothing else (spec/selection.md); no partner hears of it."""
        signals = self.clients.memory.signal if self.clients is not None else _no_signal
        decision = decide_feedback(record, self.rules, signals)
        result.feedback.append(decision)
        return feedback_audit_record(decision, head, decided_at)


def _no_signal(signal_id: str) -> None:
    """Without a client memory (``gkt check``, tests of other things) the gateway knows no signal."""
