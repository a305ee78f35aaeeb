"""Decides a batch of inbound records and builds everything they write.

No Kafka here: the service hands in plain records and chain heads, and gets
back the output messages, the audit records, and the offsets to commit. One
chain per inbound partition; records at or below a chain's head offset were
decided before (by this process or an earlier owner) and are skipped (G1).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contracts.jsonio import dumps
from gateway.audit.index import AuditIndex
from gateway.audit.record import ChainHead, audit_record, seal
from gateway.decision import Decision
from gateway.inbound import InboundRecord
from gateway.outputs import OutMessage, messages_for
from gateway.pipeline import Rules, decide
from gateway.reasons import Stage
from gateway.signing import Signer
from gateway.types import ChainId


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class BatchResult:
    outputs: list[OutMessage] = field(default_factory=list)
    audits: list[OutMessage] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    timings: list[tuple[Stage, float]] = field(default_factory=list)
    skipped: int = 0
    commit: dict[tuple[str, int], int] = field(default_factory=dict)


class Processor:
    def __init__(
        self,
        rules: Rules,
        signer: Signer,
        index: AuditIndex,
        gateway_source: str,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.rules = rules
        self.signer = signer
        self.index = index
        self.gateway_source = gateway_source
        self.clock = clock

    def process(self, records: list[InboundRecord], heads: dict[ChainId, ChainHead]) -> BatchResult:
        """Decide ``records`` (any partitions, each in offset order), advancing ``heads``."""
        result = BatchResult()
        for record in records:
            position = record.position
            result.commit[(position.topic, position.partition)] = position.offset + 1
            head = heads[position.chain]
            if position.offset <= head.offset:
                result.skipped += 1
                continue
            decision = decide(record, self.rules, self.index, timings=result.timings)
            decided_at = self.clock()
            if decision.authenticated and decision.event is not None:
                self.index.remember(decision.event.source, decision.event.id, position, record.timestamp_ms)
            result.outputs += messages_for(
                decision,
                position.chain,
                head.seq + 1,
                decided_at,
                self.rules.topics,
                self.signer,
                self.gateway_source,
            )
            sealed = seal(audit_record(decision, head, decided_at), self.signer)
            heads[position.chain] = head.next(sealed)
            result.audits.append(OutMessage(self.rules.topics.audit, position.chain.encode(), dumps(sealed)))
            result.decisions.append(decision)
        return result
