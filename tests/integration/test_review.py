"""Quarantine review through the real broker (spec/review.md, R1-R5): verdicts, signals, audit, replay."""

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.jsonio import dumps, strict_loads
from gateway.audit.verify import verify
from gateway.decision import signal_id_for
from gateway.demo import samples as s
from gateway.demo.review_story import STORY, tell
from gateway.demo.scenario import samples
from gateway.inbound import Position
from gateway.keyset import KeySet
from gateway.metrics import REGISTRY
from gateway.review.desk import send_and_wait
from gateway.review.verdict import Verdict, VerdictKind
from gateway.signing import Signer, sign_detached
from gateway.types import PartnerId
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


def held_items(audit: list[dict[str, Any]], batch_labels: dict[Position, str]) -> dict[str, tuple[Position, str]]:
    """Each quarantined sample's item position and digest, by the sample's label."""
    return {
        batch_labels[Position.of(a["inbound"])]: (Position.of(a["inbound"]), a["event"]["digest"])
        for a in audit
        if a["outcome"] == "quarantined"
    }


async def test_the_review_story_through_the_broker(harness: Harness) -> None:
    batch = samples()
    async with harness.gateway() as service:
        positions = await harness.publish(batch)
        audit = await harness.wait_for_audit(len(batch))
        labels = {position: sample.label for position, sample in zip(positions, batch, strict=True)}
        held = held_items(audit, labels)
        # R5: the queue on /metrics, from the audit log, before anyone looked at it.
        service._quarantine_observed = 0.0
        service._observe_quarantine()
        assert REGISTRY.get_sample_value("gkt_quarantine_open", {"reason": "REVIEW_REQUIRED"}) == 1
        assert REGISTRY.get_sample_value("gkt_quarantine_open", {"reason": "REFERENCE_UNKNOWN"}) == 2
        oldest = REGISTRY.get_sample_value("gkt_quarantine_oldest_seconds")
        assert oldest is not None
        assert oldest > 86_400 * 200, "the pilot-weeks report arrived in February 2025"

        async def knows_client() -> bool:
            return service.reference.get(s.UNKNOWN_CLIENT) is not None

        rows = await tell(harness.bootstrap, harness.rules, held, knows_client)
        # ... and after the story: nothing is open any more.
        service._quarantine_observed = 0.0
        service._observe_quarantine()
        assert REGISTRY.get_sample_value("gkt_quarantine_open", {"reason": "REVIEW_REQUIRED"}) == 0
        assert REGISTRY.get_sample_value("gkt_quarantine_oldest_seconds") == 0
    assert [row.outcome for row in rows if row.step.kind] == [step.outcome for step in STORY if step.kind]
    assert all(row.as_expected for row in rows), [(r.step.label, r.outcome, r.codes) for r in rows]
    # R3: a released report has the signal_id it would have had when routed straight away.
    by_label = {sample.label: sample for sample in batch}
    for row in rows:
        if row.step.outcome == "released":
            assert row.signal is not None
            event = strict_loads(by_label[row.step.sample].value)
            assert row.signal["id"] == signal_id_for(event["source"], event["id"])
            assert row.signal["dataschema"].endswith(":1.2")
    # R4: no receipt for any verdict: one receipt per report, none more.
    receipts = [r for p in ("nla", "kvk") for r in await harness.records(harness.topics.feedback(PartnerId(p)))]
    assert len(receipts) == len(batch)
    # R2: one audit record per verdict; review chains verify like any other.
    audit = await harness.audit()
    verdicts = [a for a in audit if a.get("review")]
    assert len(verdicts) == sum(1 for step in STORY if step.kind)
    assert len({(a["inbound"]["partition"], a["inbound"]["offset"]) for a in verdicts}) == len(verdicts)
    report = verify(audit, KeySet.of(harness.signer))
    assert report.ok, report.problems[:3]
    assert {"pending", "released", "discarded", "rejected"} <= set(report.outcomes)


async def test_a_forged_verdict_is_refused_and_changes_nothing(harness: Harness) -> None:
    batch = [sample for sample in samples() if sample.label == "KVK signal in the pilot weeks"]
    async with harness.gateway():
        [position] = await harness.publish(batch)
        [held] = await harness.wait_for_audit(1)
        digest = held["event"]["digest"]
        forger = Signer.generate("r-0001-2025")
        verdict = Verdict(position, digest, VerdictKind.RELEASE, "forged", "r-0001", datetime.now(UTC))
        value = dumps(verdict.as_json())
        _, refused = await send_and_wait(harness.bootstrap, harness.topics, verdict, forger.sign(value), 60)
        assert refused["outcome"] == "rejected"
        assert [r["code"] for r in refused["reasons"]] == ["VERDICT_INVALID"]
        # Two genuine releases still release it: the forged one counted for nothing.
        for reviewer in ("r-0001", "r-0002"):
            genuine = Verdict(position, digest, VerdictKind.RELEASE, "checked", reviewer, datetime.now(UTC))
            key = s.partner_key(s.reviewer_kid(reviewer))
            signature = sign_detached(dumps(genuine.as_json()), key, s.reviewer_kid(reviewer), "EdDSA")
            _, taken = await send_and_wait(harness.bootstrap, harness.topics, genuine, signature, 60)
        assert taken["outcome"] == "released"
    signals = await harness.records(harness.topics.destination("bd.detectie.mkb"))
    assert Counter(strict_loads(r.value)["id"] for r in signals) == {taken["destination"]["signal_id"]: 1}
