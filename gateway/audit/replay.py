"""Replay: decide every still-available inbound record again, under the versions its audit record names (G5).

Each record is decided with exactly the agreement and policy files the audit
record names (found by digest, current or archived), the contract version it
names, and the reference data as the gateway had it when it decided
(``decided_at``; ``versions.reference`` confirms the very record was found). Duplicates are
judged against the first decisions the log itself records.

Feedback steps (spec/selection.md) are decided again against the signals the
log records as decided before them.

Verdicts (review chains, spec/review.md) are decided again after every report,
chain by chain in order, each against the quarantine state the log records
before it, under the reviewers file its record names.

The earlier signals a record names (``eerdere``, spec/selection.md) are not
decided again but checked against the log (gateway.selection.earlier_check).
"""

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from contracts.agreement_book import AgreementBook
from contracts.keyholders import HolderBook
from gateway.audit.index import AuditIndex
from gateway.audit.record import ChainHead, audit_record, feedback_audit_record, verdict_audit_record
from gateway.decision import Decision
from gateway.feedback.decide import FeedbackDecision, decide_feedback
from gateway.inbound import InboundRecord, Position
from gateway.memories import held_since
from gateway.pipeline import Rules, Step, decide
from gateway.review.decide import VerdictDecision, decide_verdict
from gateway.review.state import ReviewState
from gateway.review.verdict import parse_item
from gateway.selection.clients import ClientMemory, EarlierSignal
from gateway.selection.earlier_check import check_earlier
from gateway.types import ChainId
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


def is_verdict(record: Mapping[str, Any]) -> bool:
    return isinstance(record.get("review"), dict)


def is_feedback(record: Mapping[str, Any]) -> bool:
    return isinstance(record.get("feedback"), dict)


def positions_named(audit: list[dict[str, Any]]) -> set[Position]:
    """Every record replay needs: each decided record, and the held report each verdict is about.

    An item the log knows only masked (a verdict on an item that never existed) is no position: such a
    verdict was refused, and is replayed as refused without looking anything up (spec/review.md).
    """
    wanted = {position_of(record) for record in audit}
    quarantined = {position_of(record) for record in audit if record.get("outcome") == "quarantined"}
    for record in audit:
        item = parse_item(str(record["review"].get("item"))) if is_verdict(record) else None
        if item is not None and item in quarantined:
            wanted.add(item)
    return wanted


class Replayer:
    def __init__(self, rules: Rules, audit: list[dict[str, Any]], reference_at: ReferenceAt) -> None:
        self.rules = rules
        self.audit = audit
        self.reference_at = reference_at
        self.index = AuditIndex()  # first decisions, as the log records them
        self.signals = ClientMemory()  # the signals the log records, for feedback steps
        self._signal_decided: dict[str, str] = {}
        review = ReviewState()
        for record in audit:
            self.index.apply(record)
            review.apply(record)
        for record in audit:  # after the quarantine: a release counts from its report's time of receipt
            self.signals.apply(record, functools.partial(held_since, review))
            destination = record.get("destination") or {}
            if record.get("outcome") in ("routed", "released") and isinstance(destination.get("signal_id"), str):
                self._signal_decided.setdefault(destination["signal_id"], str(record.get("decided_at")))

    def signals_before(self, decided_at: str) -> Callable[[str], EarlierSignal | None]:
        """The signals the gateway had decided by ``decided_at``: what a feedback step met then."""

        def lookup(signal_id: str) -> EarlierSignal | None:
            decided = self._signal_decided.get(signal_id)
            return self.signals.signal(signal_id) if decided is not None and decided <= decided_at else None

        return lookup

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
        reviewers = _pinned_holders(self.rules.reviewers, versions.get("reviewers"))
        teams = _pinned_holders(self.rules.teams, versions.get("teams"))
        if isinstance(reviewers, str):
            return reviewers
        if isinstance(teams, str):
            return teams
        decided_at = datetime.fromisoformat(str(record["decided_at"]))
        return dataclasses.replace(
            self.rules,
            agreements=agreements,
            policies=policies,
            reviewers=reviewers,
            teams=teams,
            reference=self.reference_at(decided_at),
        )

    def decide(
        self,
        record: dict[str, Any],
        inbound: InboundRecord,
        trace: list[Step] | None = None,
        reports: dict[Position, InboundRecord] | None = None,
        state: ReviewState | None = None,
    ) -> Decision | VerdictDecision | FeedbackDecision | str:
        """Decide ``record``'s inbound record again; a verdict against ``state``, the log before it."""
        rules = self.pinned(record)
        if isinstance(rules, str):
            return rules
        if is_feedback(record):
            return decide_feedback(inbound, rules, self.signals_before(str(record.get("decided_at"))))
        if is_verdict(record):
            return decide_verdict(inbound, rules, state or ReviewState(), reports or {})
        return decide(inbound, rules, self.index, trace)

    def run(self, inbound: dict[Position, InboundRecord], progress: Callable[[], None] = lambda: None) -> ReplayReport:
        """Decide every audit record's inbound record again; ``progress`` is called once per audit record.

        Reports first; then verdicts chain by chain in ``seq`` order, each against the quarantine state
        the log records before it (every report's decision, and the earlier verdicts).
        """
        report = ReplayReport()
        reports = [r for r in self.audit if not is_verdict(r)]
        verdicts = in_decided_order([r for r in self.audit if is_verdict(r)])
        state = ReviewState()
        for record in reports:
            state.apply(record)
        for record in [*reports, *verdicts]:
            progress()
            found = inbound.get(position_of(record))
            if found is None:
                report.unavailable += 1
            else:
                try:
                    decision = self.decide(record, found, reports=inbound, state=state)
                    differences = [] if isinstance(decision, str) else list(compare(record, decision))
                except Exception as exc:  # one record that cannot be replayed never stops the replay of the rest
                    decision = f"could not be replayed ({type(exc).__name__}): a fault of replay, reported as one"
                if isinstance(decision, str):
                    report.unverifiable.append(f"{record['chain']} seq {record['seq']}: {decision}")
                else:
                    report.differences += differences
                    report.identical += not differences
            if is_verdict(record):
                state.apply(record)  # what the gateway decided then is what the next verdict met
        for problem in check_earlier(self.audit):
            report.differences.append(
                Difference(problem.chain, problem.seq, None, "eerdere", problem.signal_id, problem.what)
            )
        return report


B = TypeVar("B", bound=HolderBook[Any])


def _pinned_holders(book: B, ref: str | None) -> B | str:
    """The reviewers or teams version a record names (``versions.reviewers``, ``versions.teams``), or why it
    cannot be found; a record that names none is decided under ``book``."""
    if not ref:
        return book
    found = book.only(ref)
    if found is None:
        return (
            f"{book.LIST} file {ref} not found: give --{book.LIST} DIR, or restore its exact bytes into "
            f"contracts/{book.LIST}/archive/"
        )
    return found


def in_decided_order(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Verdicts in the order the gateway decided them: ``gkt.review`` has one partition, so one chain, in ``seq``
    order (never by clock). A log from before that rule (several review chains) interleaves them by ``decided_at``,
    each chain still in ``seq`` order."""
    if len({str(r.get("chain")) for r in verdicts}) <= 1:
        return sorted(verdicts, key=lambda r: int(r.get("seq", 0)))
    return sorted(verdicts, key=lambda r: (str(r.get("decided_at")), str(r.get("chain")), int(r.get("seq", 0))))


def compare(record: dict[str, Any], decision: Decision | VerdictDecision | FeedbackDecision) -> Iterable[Difference]:
    """Every way the replayed decision differs from the recorded one (``decided_at`` aside)."""
    head = ChainHead(ChainId(str(record.get("chain"))), int(record.get("seq", 0)) - 1, str(record.get("prev")), -1)
    moment = datetime.fromisoformat(str(record["decided_at"]))
    if isinstance(decision, FeedbackDecision):
        replayed = feedback_audit_record(decision, head, moment)
    elif isinstance(decision, VerdictDecision):
        replayed = verdict_audit_record(decision, head, moment)
    else:
        replayed = audit_record(decision, head, moment)
    recorded_fields, replayed_fields = _compared(record), _compared(replayed)
    if "destination.vervolg" not in recorded_fields:  # written before the audit record kept it (signal 1.2)
        replayed_fields.pop("destination.vervolg", None)
    event = record.get("event") or {}
    for name in sorted(recorded_fields.keys() | replayed_fields.keys()):
        if recorded_fields.get(name) != replayed_fields.get(name):
            yield Difference(
                str(record.get("chain")),
                int(record.get("seq", -1)),
                event.get("id"),
                name,
                recorded_fields.get(name),
                replayed_fields.get(name),
            )


def _compared(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a decision is judged by: outcome, reasons, destination (and the signal's ``vervolg``), versions
    (but the gateway's), review, feedback."""
    destination = record.get("destination") or {}
    versions = record.get("versions") or {}
    fields: dict[str, Any] = {
        "outcome": record.get("outcome"),
        "reasons": [[r.get("code"), r.get("path")] for r in record.get("reasons", [])],
        "destination": destination.get("topic"),
        "signal_id": destination.get("signal_id"),
        **({"destination.vervolg": destination["vervolg"]} if "vervolg" in destination else {}),
        **{f"versions.{name}": value for name, value in versions.items() if name != "gateway"},
    }
    if is_verdict(record):
        fields.update({f"review.{name}": value for name, value in record["review"].items()})
    if is_feedback(record):
        fields.update({f"feedback.{name}": value for name, value in record["feedback"].items()})
    return fields
