"""Four eyes with two gateway processes in one group (spec/review.md, wire.md: one gkt.review partition).

The review that found the gaps ran two ``gkt run`` processes and sent, at once: one reviewer's release and
discard; two releases and a third reviewer's discard; one reviewer's verdict and a copy of it, then a recheck.
Each is refused as the spec says, each item closes at most once, each signal is written once, and verify and
replay are clean afterwards.
"""

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from gateway.audit.replay import Replayer
from gateway.audit.sources import load_for_replay
from gateway.audit.verify import verify
from gateway.demo import samples as s
from gateway.demo.scenario import Sample
from gateway.inbound import SIGNATURE_HEADER
from gateway.kafka.embedded import free_port
from gateway.keyset import KeySet
from gateway.reasons import Outcome
from gateway.signing import Signer
from gateway.types import PartnerId
from tests.integration.harness import Harness
from tests.integration.test_kill import kill, ready, start, until

pytestmark = pytest.mark.kafka
PILOT = datetime(2025, 2, 10, 10, 0, tzinfo=UTC)


def held_reports() -> list[Sample]:
    """Three KVK reports of the pilot weeks: the agreement holds each for review (REVIEW_REQUIRED)."""
    held = []
    for number in ("65432109", "65432110", "65432111"):
        report = s.kvk_report(inschrijving={"kvkNummer": number, "datum": "2025-02-03", "rechtsvorm": "vof"})
        value = s.encode(s.event(report, time=PILOT, source=s.KVK_SOURCE, report_type=s.KVK_TYPE))
        headers = (("gkt-signature", s.sign(value, "kvk-2025-01")),)
        held.append(Sample("held", PartnerId("kvk"), value, headers, Outcome.QUARANTINED, timestamp=PILOT))
    return held


def verdict(item: dict[str, Any], kind: str, reviewer: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    where = f"{item['inbound']['topic']}/{item['inbound']['partition']}/{item['inbound']['offset']}"
    value = s.verdict(where, item["event"]["digest"], kind, reviewer, datetime.now(UTC))
    return where.encode(), value, [(SIGNATURE_HEADER, s.sign_verdict(value, reviewer))]


async def send_at_once(harness: Harness, verdicts: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    """As reviewers at two desks would: every record in flight together."""
    producer = AIOKafkaProducer(bootstrap_servers=harness.bootstrap, linger_ms=50)
    await producer.start()
    try:
        sent = [await producer.send(harness.topics.review, value, key=key, headers=h) for key, value, h in verdicts]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def test_two_processes_take_no_verdict_twice(kafka: str, prefix: str, tmp_path: Path) -> None:
    harness = await Harness(kafka, prefix).setup()
    key = Signer.generate("gw-kill-1")  # the kill tests' kid: the processes sign with it
    (tmp_path / "gw.pem").write_bytes(key.private_pem())
    ports = [free_port(), free_port()]
    processes = [start(harness, tmp_path / "gw.pem", port) for port in ports]
    try:
        await until(lambda: all(ready(p) for p in ports), "both gateways ready")
        await harness.publish(held_reports())
        audit = await harness.wait_for_audit(3)
        items = sorted((a for a in audit if a["outcome"] == "quarantined"), key=lambda a: a["inbound"]["offset"])
        assert [a["reasons"][0]["code"] for a in items] == ["REVIEW_REQUIRED"] * 3
        first, second, third = items
        copied = verdict(third, "release", "r-0001")
        await send_at_once(
            harness,
            [
                verdict(first, "release", "r-0001"),
                verdict(first, "discard", "r-0001"),  # the same reviewer, both ways, at once
                verdict(second, "release", "r-0001"),
                verdict(second, "release", "r-0002"),
                verdict(second, "discard", "r-0003"),  # a closed item is not closed again
                copied,
                copied,  # a copy: the same signed record, written twice
                verdict(third, "recheck", "r-0002"),  # a recheck never lifts a review hold
            ],
        )
        audit = await harness.wait_for_audit(3 + 8)
    finally:
        for process in processes:
            kill(process)
    review = sorted((a for a in audit if "review" in a), key=lambda a: a["seq"])
    assert {a["chain"] for a in review} == {f"{prefix}gkt.review/0"}, "one partition, one chain"
    outcomes = [(a["outcome"], [r["code"] for r in a["reasons"]]) for a in review]
    assert outcomes == [
        ("pending", []),
        ("rejected", ["VERDICT_REPEATED"]),
        ("pending", []),
        ("released", []),
        ("rejected", ["ITEM_NOT_OPEN"]),
        ("pending", []),
        ("rejected", ["VERDICT_REPEATED"]),
        ("pending", ["REVIEW_REQUIRED"]),
    ]
    closed = Counter(a["review"]["item"] for a in review if a["outcome"] in ("released", "discarded"))
    assert max(closed.values()) == 1
    signals = []
    for destination in harness.rules.policies.destinations():
        signals += await harness.records(harness.topics.destination(destination))
    assert len(signals) == 1, "one release, one signal"
    assert verify(audit, KeySet.of(key)).ok
    logged, inbound, reference_at = await load_for_replay(kafka, harness.rules, s.REFERENCE_FILE)
    report = Replayer(harness.rules, logged, reference_at).run(inbound)
    assert report.ok, (report.differences, report.unverifiable)
    assert report.identical == len(logged)
