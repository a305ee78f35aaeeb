"""Decides a batch of inbound records and builds everything they write.

No Kafka here: the service hands in plain records and chain heads, and gets
back the output messages, the audit records, and the offsets to commit. One
chain per inbound partition; records at or below a chain's head offset were
decided before (by this process or an earlier owner) and are skipped (G1).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts.jsonio import dumps
from gateway.audit.index import AuditIndex
from gateway.audit.record import ChainHead, audit_record, seal, sign_checkpoint
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
        sealed_by_chain: dict[ChainId, list[dict[str, Any]]] = {}
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
            sealed = seal(audit_record(decision, head, decided_at))
            heads[position.chain] = head.next(sealed)
            sealed_by_chain.setdefault(position.chain, []).append(sealed)
            result.decisions.append(decision)
        # One signature per chain and write (spec/audit.md, checkpoints): its last record vouches for the rest.
        for chain, sealed_records in sealed_by_chain.items():
            sign_checkpoint(sealed_records[-1], self.signer)
            audit_topic, key = self.rules.topics.audit, chain.encode()
            result.audits += [OutMessage(audit_topic, key, dumps(sealed)) for sealed in sealed_records]
        return result
