"""Every outcome and reason code through the real broker: what lands on every topic."""

import json
import uuid
from collections import Counter

import pytest

from contracts.signal import Signal
from gateway.audit.verify import verify
from gateway.demo import samples as s
from gateway.demo.scenario import Sample, samples
from gateway.inbound import SIGNATURE_HEADER, Position
from gateway.keyset import KeySet
from gateway.reasons import Outcome
from gateway.signing import verify_detached
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


async def test_every_sample_lands_where_the_spec_says(harness: Harness) -> None:
    batch = samples()
    if not harness.settings.trust_producer_time:
        # A broker that dates records itself (Apache Kafka, LogAppendTime) cannot be handed a past receipt time.
        batch = [sample for sample in batch if sample.timestamp is None]
    async with harness.gateway():
        positions = await harness.publish(batch)
        audit = await harness.wait_for_audit(len(batch))
    topics = harness.topics
    expected = dict(zip(positions, batch, strict=True))

    # G1: exactly one decision per inbound record, with the sample's outcome and codes.
    decided = Counter(Position.of(a["inbound"]) for a in audit)
    assert decided == Counter(positions)
    for record in audit:
        inbound = record["inbound"]
        sample = expected[Position.of(inbound)]
        assert record["outcome"] == sample.outcome.value, sample.label
        assert [r["code"] for r in record["reasons"]] == [c.value for c in sample.codes], sample.label
        if sample.destination:
            assert record["destination"]["topic"] == topics.destination(sample.destination), sample.label
    assert verify(audit, KeySet.of(harness.signer)).ok
    for record in await harness.records(topics.audit):  # audit records are keyed by chain id
        assert record.key == json.loads(record.value)["chain"].encode()

    # Signals: one per routed report, signed, in the published shape, keyed by signal_id.
    routed = [s for s in batch if s.outcome is Outcome.ROUTED]
    signals = []
    versions = set()
    for name in harness.rules.policies.destinations():
        for record in await harness.records(topics.destination(name)):
            token = dict(record.headers)[SIGNATURE_HEADER].decode()
            assert verify_detached(token, record.value, harness.signer.key, "EdDSA")
            event = json.loads(record.value)
            assert record.key == event["id"].encode()
            Signal.model_validate(event["data"], strict=False)
            signals.append((name, event["data"]["melding"]["partner"]))
            versions.add((event["data"]["melding"]["type"], event["data"]["melding"]["contractversie"]))
    assert sorted(signals) == sorted((s.destination, s.partner) for s in routed)
    assert versions == {  # an event of every contract version became a signal
        ("nl.nla.schijnzelfstandigheid", "1.0"),
        ("nl.nla.schijnzelfstandigheid", "1.1"),
        ("nl.nla.schijnzelfstandigheid", "2.0"),
        ("nl.kvk.inschrijvingssignaal", "1.0"),
    }

    # Receipts: exactly one per inbound record, on the sender's feedback topic.
    receipts = []
    for partner in ("nla", "kvk"):
        for record in await harness.records(topics.feedback(partner)):  # type: ignore[arg-type]
            receipt = json.loads(record.value)
            receipts.append(receipt)
            token = dict(record.headers)[SIGNATURE_HEADER].decode()
            assert verify_detached(token, record.value, harness.signer.key, "EdDSA")
            # Keyed by event id; by <topic>/<partition>/<offset> when not even the id could be read.
            where = receipt["inbound"]
            expected_key = receipt["id"] or f"{where['topic']}/{where['partition']}/{where['offset']}"
            assert record.key == expected_key.encode()
    by_position = {Position.of(r["inbound"]): r for r in receipts}
    assert len(receipts) == len(batch)
    for position, sample in expected.items():
        assert by_position[position]["outcome"] == sample.outcome.receipt_outcome, sample.label
    duplicate = next(r for r in receipts if r["outcome"] == "duplicate")
    assert Position.of(duplicate["original"]) == positions[0]

    # Quarantine: the three held reports, with their reasons, for reviewers.
    held = await harness.records(topics.quarantine)
    quarantine = [json.loads(r.value) for r in held]
    for record, entry in zip(held, quarantine, strict=True):
        assert record.key == entry["id"].encode()
        token = dict(record.headers)[SIGNATURE_HEADER].decode()
        assert verify_detached(token, record.value, harness.signer.key, "EdDSA")
    assert any(r["id"] is None for r in receipts)  # the unreadable ones were keyed by position
    assert sorted(q["reasons"][0]["code"] for q in quarantine) == [
        "REFERENCE_UNKNOWN",
        "REFERENCE_UNKNOWN",
        "REVIEW_REQUIRED",
    ]
    assert {q["reasons"][0]["detail"] for q in quarantine} >= {"HT level unknown"}

    # Dead letters: the three unreadable records, masked, with their position in headers.
    dead = await harness.records(topics.deadletter)
    assert sorted(dict(r.headers)["gkt-reason"] for r in dead) == [
        b"EVENT_INVALID",
        b"EVENT_TOO_LARGE",
        b"EVENT_UNREADABLE",
    ]
    for record in dead:
        assert b"123456782" not in record.value
        assert b"De Vries" not in record.value


async def test_hostile_records_in_a_batch_do_not_stop_the_ones_after_them(harness: Harness) -> None:
    all_samples = samples()
    good = [s for s in all_samples if s.outcome is Outcome.ROUTED and s.partner == "nla"]
    hostile = [
        s
        for s in all_samples
        if s.label
        in {"not JSON", "oversized record", "tampered report", "prohibited attribute", "unknown CloudEvents attribute"}
    ]
    batch = []
    for record in hostile:  # each hostile record between good ones, in the same batch
        batch += [_fresh(g) for g in good] + [record]
    batch += [_fresh(g) for g in good]
    positions = await harness.publish(batch)  # all waiting before the gateway starts: one batch per partition
    async with harness.gateway() as service:
        audit = await harness.wait_for_audit(len(batch))
        assert await harness.decided_by(service, len(batch)) == len(batch)
    outcomes = Counter(a["outcome"] for a in audit)
    assert outcomes == {"routed": (len(hostile) + 1) * len(good), "rejected": len(hostile)}
    assert sorted((a["inbound"]["partition"], a["inbound"]["offset"]) for a in audit) == sorted(
        (p.partition, p.offset) for p in positions
    )


def _fresh(sample: Sample) -> Sample:
    """The same good report with a new id, so that repeats are not duplicates."""
    event = json.loads(sample.value)
    event["id"] = str(uuid.uuid4())
    value = s.encode(event)
    return Sample(
        sample.label,
        sample.partner,
        value,
        (("gkt-signature", s.sign(value, "nla-2025-01")),),
        sample.outcome,
        sample.codes,
        sample.destination,
        sample.timestamp,
        sample.key,
    )
