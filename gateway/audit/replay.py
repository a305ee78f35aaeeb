"""Replay: decide every still-available inbound record again, under the versions its audit record names (G5).

Each record is decided with exactly the agreement and policy files the audit
record names (found by digest, current or archived), the contract version it
names, and the reference data as the gateway had it when it decided
(``decided_at``; ``versions.reference`` confirms the very record was found). Duplicates are
judged against the first decisions the log itself records.
"""

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.agreement_book import AgreementBook
from gateway.audit.index import AuditIndex
from gateway.decision import Decision
from gateway.inbound import InboundRecord, Position
from gateway.pipeline import Rules, Step, decide
from gateway.reasons import Outcome
from routing.policy import PolicyBook
from routing.reference import ClientLookup

ReferenceAt = Callable[[datetime], ClientLookup]


@dataclass(frozen=True, slots=True)
class Difference:
    chain: str
    seq: int
    event_id: str | None
    field: str
    recorded: Any
    replayed: Any


@dataclass
class ReplayReport:
    identical: int = 0
    unavailable: int = 0
    differences: list[Difference] = field(default_factory=list)
    unverifiable: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.unverifiable

    def as_json(self) -> dict[str, Any]:
        """The report for scripts (``gkt audit replay --json``)."""
        return {
            "ok": self.ok,
            "identical": self.identical,
            "unavailable": self.unavailable,
            "differences": [dataclasses.asdict(d) for d in self.differences],
            "unverifiable": self.unverifiable,
        }


def position_of(record: dict[str, Any]) -> Position:
    return Position.of(record["inbound"])


class Replayer:
    def __init__(self, rules: Rules, audit: list[dict[str, Any]], reference_at: ReferenceAt) -> None:
        self.rules = rules
        self.audit = audit
        self.reference_at = reference_at
        self.index = AuditIndex()  # first decisions, as the log records them
        for record in audit:
            self.index.apply(record)

    def pinned(self, record: dict[str, Any]) -> Rules | str:
        """The rules the record names, or why they cannot be found."""
        versions = record.get("versions") or {}
        agreements, policies = self.rules.agreements, self.rules.policies
        if versions.get("agreement"):
            agreement = agreements.by_ref(versions["agreement"])
            if agreement is None:
                partner = versions["agreement"].split(":")[0]
                return (
                    f"agreement file {versions['agreement']} not found in the agreements directory: if the agreements "
                    f"live elsewhere, give --agreements DIR; else restore its exact bytes into "
                    f"contracts/agreements/{partner}/archive/ (or <DIR>/{partner}/archive/)"
                )
            agreements = AgreementBook([agreement])
        if versions.get("policy"):
            policy = policies.by_ref(versions["policy"])
            if policy is None:
                return (
                    f"policy file {versions['policy']} not found: restore its exact bytes into routing/policy/archive/"
                )
            policies = PolicyBook([policy])
        decided_at = datetime.fromisoformat(str(record["decided_at"]))
        return dataclasses.replace(
            self.rules, agreements=agreements, policies=policies, reference=self.reference_at(decided_at)
        )

    def decide(self, record: dict[str, Any], inbound: InboundRecord, trace: list[Step] | None = None) -> Decision | str:
        rules = self.pinned(record)
        if isinstance(rules, str):
            return rules
        return decide(inbound, rules, self.index, trace)

    def run(self, inbound: dict[Position, InboundRecord], progress: Callable[[], None] = lambda: None) -> ReplayReport:
        """Decide every audit record's inbound record again; ``progress`` is called once per audit record."""
        report = ReplayReport()
        for record in self.audit:
            progress()
            found = inbound.get(position_of(record))
            if found is None:
                report.unavailable += 1
                continue
            decision = self.decide(record, found)
            if isinstance(decision, str):
                report.unverifiable.append(f"{record['chain']} seq {record['seq']}: {decision}")
                continue
            differences = list(compare(record, decision))
            report.differences += differences
            report.identical += not differences
        return report


def compare(record: dict[str, Any], decision: Decision) -> Iterable[Difference]:
    """Every way the replayed decision differs from the recorded one (``decided_at`` aside)."""
    versions = record.get("versions") or {}
    destination = record.get("destination") or {}
    replayed = {
        "outcome": decision.outcome.value,
        "reasons": [[r.code.value, r.path] for r in decision.reasons],
        "destination": decision.destination,
        "signal_id": decision.signal_id if decision.outcome is Outcome.ROUTED else None,
        "versions.contract": decision.contract.key if decision.contract else None,
        "versions.agreement": decision.agreement.ref if decision.agreement else None,
        "versions.policy": decision.policy.ref if decision.policy else None,
        "versions.reference": decision.reference,
    }
    recorded = {
        "outcome": record.get("outcome"),
        "reasons": [[r.get("code"), r.get("path")] for r in record.get("reasons", [])],
        "destination": destination.get("topic"),
        "signal_id": destination.get("signal_id"),
        "versions.contract": versions.get("contract"),
        "versions.agreement": versions.get("agreement"),
        "versions.policy": versions.get("policy"),
        "versions.reference": versions.get("reference"),
    }
    event = record.get("event") or {}
    for name, value in recorded.items():
        if replayed[name] != value:
            yield Difference(
                str(record.get("chain")), int(record.get("seq", -1)), event.get("id"), name, value, replayed[name]
            )
