"""Property tests: verdicts decided by a group of gateway processes that hand ``gkt.review`` on and crash.

Each member is a ``Processor`` kept as ``gateway.kafka.service`` keeps one: its
duplicate memory and review state follow the audit log, except the chains it
holds; when it takes a chain it reads the head from the log, when it lets one
go it hands the head to its index (``_ChainLoader``). The one ``gkt.review``
partition (spec/wire.md) moves between members at any point, and an owner
may crash after writing a batch's outputs, after its audit records too, or
before writing anything; its replacement starts empty and reads the log.

Whatever reviewers and anyone with write access send (genuine verdicts,
copies of them, one reviewer's opposite verdicts, hostile bytes), the log the
group leaves holds every ``gkt.review`` record decided exactly once in a chain
``gkt audit verify`` accepts, four eyes holds on every item (each closing
carried by two different reviewers, one verdict per reviewer, closed at most
once and nothing taken after), each released signal is written under one id,
and ``gkt audit replay`` decides every record the same way.
"""

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from contracts.jsonio import strict_loads
from gateway.audit.index import AuditIndex
from gateway.audit.record import ChainHead
from gateway.audit.replay import Replayer
from gateway.audit.verify import verify
from gateway.demo import samples as s
from gateway.inbound import SIGNATURE_HEADER, InboundRecord, Position
from gateway.keyset import KeySet
from gateway.outputs import OutMessage
from gateway.processor import BatchResult, Processor
from gateway.review.state import ReviewState
from gateway.types import ChainId
from tests.fuzz.conftest import count
from tests.fuzz.test_hostile_batches import PLANTED
from tests.fuzz.test_hostile_verdicts import LATER, PILOT, RULES, SIGNER, review_record
from tests.helpers import NOW, check_outputs, inbound, kvk

REVIEW = ChainId("gkt.review/0")
REPORTS = ChainId("gkt.in.kvk/0")
MEMBERS = 3
FATES = ("written", "written", "written", "outputs only", "audit written, not committed", "nothing written")


def clock() -> Any:
    return NOW + timedelta(days=2)


@dataclass
class Member:
    """One gateway process of the group."""

    processor: Processor = field(
        default_factory=lambda: Processor(RULES, SIGNER, AuditIndex(), "urn:x", clock=clock, review=ReviewState())
    )
    heads: dict[ChainId, ChainHead] = field(default_factory=dict)
    read: int = 0  # how far into the audit log it has followed

    def follow(self, log: list[dict[str, Any]]) -> None:
        """The audit follower: every record it has not read, except those of chains it holds (it wrote them)."""
        for record in log[self.read :]:
            if record["chain"] not in self.heads:
                self.processor.index.apply(record)
                self.processor.review.apply(record)
        self.read = len(log)

    def take(self, chain: ChainId, log: list[dict[str, Any]]) -> None:
        self.follow(log)  # caught up: includes whatever the previous owner wrote
        self.heads[chain] = self.processor.index.head(chain)

    def let_go(self, chain: ChainId) -> None:
        head = self.heads.pop(chain, None)
        if head is not None:
            self.processor.index.advance(head)


@dataclass
class Group:
    members: list[Member] = field(default_factory=lambda: [Member() for _ in range(MEMBERS)])
    log: list[dict[str, Any]] = field(default_factory=list)  # gkt.audit, in write order
    outputs: list[OutMessage] = field(default_factory=list)  # every other topic
    review: list[InboundRecord] = field(default_factory=list)  # gkt.review partition 0
    committed: int = 0
    owner: int | None = None
    held: dict[Position, InboundRecord] = field(default_factory=dict)

    def hold(self, reports: list[InboundRecord]) -> None:
        """Member 0 decides the reports (all quarantined in the KVK pilot weeks) and writes them."""
        member = self.members[0]
        member.take(REPORTS, self.log)
        result = member.processor.process(reports, member.heads)
        self.write(result, audits=True)
        assert [r["outcome"] for r in self.log] == ["quarantined"] * len(reports)
        self.held = {r.position: r for r in reports}

    def write(self, result: BatchResult, *, audits: bool) -> None:
        check_outputs(result)
        self.outputs += result.outputs
        if audits:
            self.log += [strict_loads(m.value) for m in result.audits]

    def hand_to(self, member: int) -> None:
        """A rebalance: the old owner (if any) lets the chain go, the new one reads its head from the log."""
        if self.owner is not None:
            self.members[self.owner].let_go(REVIEW)
        self.members[member].take(REVIEW, self.log)
        self.owner = member

    def decide(self, size: int, fate: str) -> None:
        """The owner decides the next ``size`` uncommitted records; ``fate``: how far it gets before a crash."""
        assert self.owner is not None
        member = self.members[self.owner]
        batch = self.review[self.committed : self.committed + size]
        if not batch:
            return
        member.follow(self.log)  # the service waits for the audit follower before it decides verdicts
        wanted = member.processor.held_reports(batch)
        result = member.processor.process(batch, member.heads, {p: self.held[p] for p in wanted if p in self.held})
        event(f"fate {fate}")
        if fate == "written":
            self.write(result, audits=True)
            self.committed = result.commit[("gkt.review", 0)]
            return
        if fate != "nothing written":
            self.write(result, audits=fate == "audit written, not committed")
        self.members[self.owner] = Member()  # crashed: a new process starts with nothing but the log
        self.owner = None


@st.composite
def sent(draw: st.DrawFn, group: Group) -> list[InboundRecord]:
    """What reviewers and other writers put on ``gkt.review`` next: verdicts, hostile records, copies."""
    offset = len(group.review)
    reports = list(group.held.values())
    if group.review and draw(st.integers(0, 4)) == 0:  # a copy of a record already there, at a new offset
        original = draw(st.sampled_from(group.review))
        return [replace(original, position=Position("gkt.review", 0, offset))]
    return [
        draw(genuine(draw(st.sampled_from(reports)), offset + i))
        if draw(st.booleans())
        else draw(review_record(draw(st.sampled_from(reports)), offset + i))
        for i in range(draw(st.integers(1, 3)))
    ]


@st.composite
def genuine(draw: st.DrawFn, report: InboundRecord, offset: int) -> InboundRecord:
    """A verdict as ``gkt review`` writes it: signed by the reviewer it names, keyed by its item, broker time."""
    reviewer = draw(st.sampled_from(s.REVIEWERS))
    kind = draw(st.sampled_from(["release", "release", "discard", "recheck"]))
    at = NOW + timedelta(days=1)
    value = s.verdict(str(report.position), report.digest, kind, reviewer, at, f"{PLANTED[0]} {PLANTED[1]}")
    headers = ((SIGNATURE_HEADER, s.sign_verdict(value, reviewer)),)
    position = Position("gkt.review", 0, offset)
    return InboundRecord(position, LATER, value, headers, key=str(report.position).encode(), broker_time=True)


@given(st.data())
def test_a_group_handing_review_on_and_crashing_keeps_four_eyes_and_one_chain(data: st.DataObject) -> None:
    count("review group runs")
    group = Group()
    reports = [inbound(kvk(at=PILOT), partner="kvk", kid="kvk-2025-01", at=PILOT, offset=offset) for offset in range(2)]
    group.hold(reports)
    with capture_logs() as logs:
        for _ in range(data.draw(st.integers(1, 12), label="steps")):
            if data.draw(st.booleans(), label="send"):
                group.review += data.draw(sent(group))
                continue
            if group.owner is None or data.draw(st.integers(0, 3)) == 0:
                group.hand_to(data.draw(st.integers(0, MEMBERS - 1), label="new owner"))
            group.decide(data.draw(st.integers(1, 4), label="batch"), data.draw(st.sampled_from(FATES)))
            if data.draw(st.booleans(), label="followers read"):
                for member in group.members:  # the service's audit follower runs beside the consume loop
                    member.follow(group.log)
        if group.owner is None:
            group.hand_to(0)
        group.decide(len(group.review), "written")  # the group settles: everything decided and committed
    check_log(group)
    shown = repr(logs).encode() + b"".join(m.value for m in group.outputs if m.topic == "gkt.quarantine")
    for planted in PLANTED:
        assert planted.encode() not in repr(group.log).encode()
        assert planted.encode() not in shown


def check_log(group: Group) -> None:
    verdicts = [r for r in group.log if r["chain"] == REVIEW]
    offsets = [r["inbound"]["offset"] for r in verdicts]
    assert offsets == list(range(len(group.review))), "every gkt.review record decided once, in order"
    report = verify(group.log, KeySet.of(SIGNER))
    assert report.ok, report.problems
    taken: dict[str, list[dict[str, Any]]] = {}
    for record in verdicts:
        event(f"outcome {record['outcome']}")
        if record["outcome"] == "rejected":
            continue
        item = record["review"]["item"]
        before = taken.setdefault(item, [])
        assert not any(r["outcome"] in ("released", "discarded") for r in before), "nothing taken once closed"
        assert record["review"]["reviewer"] not in {r["review"]["reviewer"] for r in before}, "one verdict each"
        before.append(record)
        if record["outcome"] in ("released", "discarded"):
            kind = "release" if record["outcome"] == "released" else "discard"
            reviewers = {r["review"]["reviewer"] for r in before if r["review"]["verdict"] == kind}
            assert len(reviewers) >= 2, f"{record['outcome']} by {reviewers}: four eyes"
    released = sum(r["outcome"] == "released" for r in verdicts)
    signal_ids = {m.key for m in group.outputs if m.topic.startswith("bd.")}
    assert len(signal_ids) == released, "each release writes its signal under one id, and only a release"
    decided = {**group.held, **{r.position: r for r in group.review}}
    replayed = Replayer(RULES, group.log, lambda _moment: RULES.reference).run(decided)
    assert replayed.ok, (replayed.differences, replayed.unverifiable)
    assert replayed.identical == len(group.log)
