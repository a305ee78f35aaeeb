"""R2 and R3 under SIGKILL: verdicts decided while gateway processes are killed at random moments get
exactly one audit record each, and every item is released at most once."""

import asyncio
import random
import signal
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contracts.jsonio import strict_loads
from gateway.audit.verify import verify
from gateway.demo import samples as s
from gateway.demo.run import publish_samples
from gateway.demo.scenario import Sample
from gateway.inbound import Position
from gateway.kafka.embedded import free_port
from gateway.kafka.runner import new_partner_producer
from gateway.keyset import KeySet
from gateway.reasons import Outcome
from gateway.signing import Signer
from gateway.types import PartnerId
from tests.integration.harness import Harness
from tests.integration.test_kill import audit_count, kill, ready, start, until

pytestmark = pytest.mark.kafka

ITEMS = 300
PILOT = datetime(2025, 2, 10, 10, 0, tzinfo=UTC)  # KVK agreement 2025.1: every report is reviewed


def held_reports(count: int) -> list[Sample]:
    result = []
    for i in range(count):
        event = s.event(s.kvk_report(), time=PILOT, source=s.KVK_SOURCE, report_type=s.KVK_TYPE)
        event["id"] = f"review-kill-{uuid.uuid4()}"
        value = s.encode(event)
        headers = (("gkt-signature", s.sign(value, "kvk-2025-01")),)
        result.append(Sample(f"held {i}", PartnerId("kvk"), value, headers, Outcome.QUARANTINED, timestamp=PILOT))
    return result


async def publish_verdicts(harness: Harness, items: dict[Position, str]) -> int:
    """Per item: release by r-0001 and r-0002 (released), then by r-0003 (ITEM_NOT_OPEN); all keyed by item."""
    producer = new_partner_producer(harness.bootstrap)
    await producer.start()
    sent = 0
    try:
        for reviewer in ("r-0001", "r-0002", "r-0003"):
            at = datetime.now(UTC) - timedelta(seconds=1)
            for position, digest in items.items():
                value = s.verdict(str(position), digest, "release", reviewer, at)
                await producer.send(
                    harness.topics.review,
                    value,
                    key=str(position).encode(),
                    headers=[("gkt-signature", s.sign_verdict(value, reviewer))],
                )
                sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def test_sigkill_while_verdicts_are_decided(kafka: str, prefix: str, tmp_path: Path) -> None:
    harness = await Harness(kafka, prefix).setup()
    key = Signer.generate("gw-kill-1")
    (tmp_path / "gw.pem").write_bytes(key.private_pem())
    reports = held_reports(ITEMS)
    await publish_samples(harness.bootstrap, harness.rules, reports)
    process = start(harness, tmp_path / "gw.pem")
    for _ in range(600):
        if await audit_count(harness) >= ITEMS:
            break
        await asyncio.sleep(0.1)
    audit = [strict_loads(r.value) for r in await harness.records(harness.topics.audit)]
    items = {Position.of(a["inbound"]): a["event"]["digest"] for a in audit if a["outcome"] == "quarantined"}
    assert len(items) == ITEMS
    verdicts = await publish_verdicts(harness, items)
    rng = random.Random(20261)
    progress = [await audit_count(harness)]
    for _ in range(3):  # kill mid-work, at a random moment once it decided some verdicts
        while await audit_count(harness) == progress[-1]:
            assert process.poll() is None
            await asyncio.sleep(0.01)
        await asyncio.sleep(rng.uniform(0.0, 0.05))
        kill(process)
        progress.append(await audit_count(harness))
        port = free_port()
        process = start(harness, tmp_path / "gw.pem", port)
    assert progress[-1] < ITEMS + verdicts, "the kills happened while verdicts were being decided"
    await until(lambda: ready(port), "the last process joined")
    for _ in range(900):
        if await audit_count(harness) >= ITEMS + verdicts:
            break
        await asyncio.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0

    audit = [strict_loads(r.value) for r in await harness.records(harness.topics.audit) if r.value]
    decided = Counter(Position.of(a["inbound"]) for a in audit if a.get("review"))
    assert len(decided) == verdicts, "R2: every verdict has its audit record"
    assert max(decided.values()) == 1, "R2: no verdict has two"
    outcomes = Counter((a["review"]["item"], a["outcome"]) for a in audit if a.get("review"))
    for position in items:
        assert outcomes[(str(position), "released")] == 1, "R3: released once"
        assert outcomes[(str(position), "pending")] == 1
        assert outcomes[(str(position), "rejected")] == 1, "the third reviewer finds it closed"
    released = {a["destination"]["signal_id"] for a in audit if a["outcome"] == "released"}
    signals = [strict_loads(r.value) for r in await harness.records(harness.topics.destination("bd.detectie.mkb"))]
    assert {signal["id"] for signal in signals} == released, "every release has its signal, and no other"
    assert all(signal["data"]["beoordeling"]["redenen"] == ["REVIEW_REQUIRED"] for signal in signals)
    report = verify(audit, KeySet.of(key))
    assert report.ok, report.problems[:3]
    assert report.outcomes["released"] == ITEMS
