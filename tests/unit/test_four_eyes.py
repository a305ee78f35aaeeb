"""Four eyes as a property (spec/review.md, R1 and R3): whatever verdicts arrive, from whomever, in any order,
copied or forged, an item is released or discarded only by two different verified reviewers, at most once,
and its signal is written at most once."""

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from contracts.jsonio import strict_loads
from gateway.demo import samples as s
from gateway.inbound import SIGNATURE_HEADER, InboundRecord, Position
from gateway.signing import Signer
from tests.unit.test_review import GROUNDS, LATER, Desk, kvk_under_review, nla_unknown_client

REVIEWERS = ("r-0001", "r-0002", "r-0003")
FORGER = Signer.generate("r-0001-2025")  # the right kid, someone else's key


class FourEyes(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.desk = Desk()
        self.items: list[InboundRecord] = []
        self.sent: list[InboundRecord] = []
        self.signals = 0
        self.closings: list[dict[str, Any]] = []

    @initialize()
    def hold_two_items(self) -> None:
        # One the agreement holds for review (a recheck never lifts it), one held for an unknown client.
        self.items = [self.desk.hold(kvk_under_review(offset=0)), self.desk.hold(nla_unknown_client(offset=0))]

    def _decide(self, record: InboundRecord) -> None:
        self.sent.append(record)
        result = self.desk.run(record)
        self.signals += sum(m.topic.startswith("bd.") for m in result.outputs)
        self.closings += [strict_loads(m.value) for m in result.outputs if m.topic == "gkt.quarantine"]

    @rule(
        item=st.integers(0, 1),
        reviewer=st.sampled_from(REVIEWERS),
        kind=st.sampled_from(["release", "discard", "recheck"]),
        forged=st.booleans(),
    )
    def verdict(self, item: int, reviewer: str, kind: str, forged: bool) -> None:
        held = self.items[item]
        value = s.verdict(str(held.position), held.digest, kind, reviewer, LATER, GROUNDS)
        signature = FORGER.sign(value).encode() if forged else s.sign_verdict(value, reviewer)
        offset = len(self.sent)
        record = InboundRecord(
            Position("gkt.review", 0, offset),
            int(LATER.timestamp() * 1000),
            value,
            ((SIGNATURE_HEADER, signature),),
            key=str(held.position).encode(),
        )
        self._decide(record)

    @rule(which=st.integers(0, 1000))
    def copy(self, which: int) -> None:
        """Anyone who may write gkt.review copies a verdict record already there."""
        if not self.sent:
            return
        original = self.sent[which % len(self.sent)]
        position = Position("gkt.review", 0, len(self.sent))
        self._decide(InboundRecord(position, original.timestamp_ms, original.value, original.headers, original.key))

    @invariant()
    def released_or_discarded_by_two_verified_reviewers_at_most_once(self) -> None:
        verdicts = [a for a in self.desk.audit if "review" in a]
        for held in self.items:
            on_item = [a for a in verdicts if a["outcome"] != "rejected" and a["review"]["item"] == str(held.position)]
            closing = [a for a in on_item if a["outcome"] in ("released", "discarded")]
            assert len(closing) <= 1, "an item closes at most once"
            for close in closing:
                kind = {"released": "release", "discarded": "discard"}[close["outcome"]]
                agreeing = {a["review"]["reviewer"] for a in on_item if a["review"]["verdict"] == kind}
                recheck = close["review"]["verdict"] == "recheck"
                assert None not in agreeing
                assert recheck or len(agreeing) >= 2, "two different verified reviewers"
                if recheck:
                    assert close["outcome"] == "released"
                    assert "REVIEW_REQUIRED" not in self._held_for(held), "a recheck never lifts a review hold"
        assert self.signals <= len(self.items), "a signal per item at most"
        assert len(self.closings) == len({c["item"] for c in self.closings})

    def _held_for(self, held: InboundRecord) -> list[str]:
        [audit] = [a for a in self.desk.audit if a["inbound"] == {**a["inbound"], **held.position.as_dict()}]
        return [r["code"] for r in audit["reasons"]]


TestFourEyes = FourEyes.TestCase
TestFourEyes.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)
