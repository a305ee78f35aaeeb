"""Feedback as the field writes it (spec/selection.md; G8): teams on librdkafka (compressed, in a transaction),
two gateway processes that split the partitions, and anyone who may write ``bd.terugkoppeling`` copying or
backdating a step. Every step gets exactly one audit record; a copy is recorded again and counted once; a
backdated copy is refused; the log verifies and replays."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import Producer

from contracts.jsonio import strict_loads
from gateway.audit.replay import Replayer
from gateway.audit.sources import load_for_replay
from gateway.audit.verify import verify
from gateway.demo import samples as s
from gateway.kafka.service import GatewayService
from gateway.keyset import KeySet
from gateway.report.figures import FigureCounter, Window
from gateway.types import PartnerId
from routing.calendar import day_of_receipt
from tests.integration.harness import Harness
from tests.integration.test_earlier_signals import report

pytestmark = pytest.mark.kafka
SIGNALS = 12


def team_steps(bootstrap: str, topic: str, steps: list[tuple[str, bytes, int | None]], config: dict[str, Any]) -> None:
    """A team's librdkafka producer: each ``(signal id, value, timestamp ms or None)``, signed by mkb-oost."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", **config})
    failures: list[str] = []
    transactional = "transactional.id" in config
    if transactional:
        producer.init_transactions(30)
        producer.begin_transaction()
    for signal_id, value, timestamp in steps:
        headers = [("gkt-signature", s.sign_feedback(value, "mkb-oost"))]
        producer.produce(topic, value, key=signal_id.encode(), headers=headers, timestamp=timestamp or 0,
                         on_delivery=lambda error, _m: failures.append(str(error)) if error else None)  # fmt: skip
    producer.flush(30)
    if transactional:
        producer.commit_transaction(30)
    assert not failures, failures


def owner(services: list[GatewayService], topic: str, partition: int) -> int:
    for number, service in enumerate(services):
        consumer = service._consumer
        if consumer is not None and any((tp.topic, tp.partition) == (topic, partition) for tp in consumer.assignment()):
            return number
    raise AssertionError(f"no process owns {topic}/{partition}")


async def test_librdkafka_teams_two_processes_copies_and_backdating(kafka: str, prefix: str) -> None:
    harness = await Harness(kafka, prefix, trust_producer_time=True).setup()
    topic = harness.topics.terugkoppeling
    today = day_of_receipt(datetime.now(UTC)).isoformat()
    async with harness.gateway() as first, harness.gateway() as second:
        services = [first, second]
        await harness.publish([report("nla") for _ in range(SIGNALS)])
        audit = await harness.wait_for_audit(SIGNALS)
        routed = [a for a in audit if a["outcome"] == "routed"]
        assert len(routed) == SIGNALS
        signals = {a["destination"]["signal_id"]: a for a in routed}
        steps = [(sid, s.feedback(sid, "geselecteerd", today, "mkb-oost"), None) for sid in signals]
        half = len(steps) // 2
        await asyncio.to_thread(team_steps, kafka, topic, steps[:half], {"compression.type": "zstd", "linger.ms": 20})
        await asyncio.to_thread(team_steps, kafka, topic, steps[half:], {"transactional.id": "team-tx"})
        # Someone with write access copies a step as it is, and copies another backdated to before its signal.
        copied = steps[0]
        backdated = (steps[1][0], steps[1][1], int((datetime.now(UTC) - timedelta(days=3)).timestamp() * 1000))
        await asyncio.to_thread(team_steps, kafka, topic, [copied, backdated], {})
        audit = await harness.wait_for_audit(SIGNALS + len(steps) + 2)
        # Which process decided each signal and each step: some step is decided by the other one.
        decided_by = [
            (owner(services, a["inbound"]["topic"], a["inbound"]["partition"]),
             owner(services, *_place(a["feedback"]["signal_id"], audit)))
            for a in audit if "feedback" in a
        ]  # fmt: skip

    feedback = [a for a in audit if "feedback" in a]
    assert len(feedback) == len(steps) + 2, "one audit record per step, the transaction's control records none"
    outcomes = sorted(a["outcome"] for a in feedback)
    assert outcomes == ["recorded"] * (len(steps) + 1) + ["rejected"], "the copy is recorded, the backdated refused"
    assert {a["feedback"]["signal_id"] for a in feedback if a["outcome"] == "recorded"} == set(signals)
    [refused] = [a for a in feedback if a["outcome"] == "rejected"]
    assert refused["feedback"]["signal_id"] == backdated[0]  # dated before its own op: "op is after the day…"
    assert [r["code"] for r in refused["reasons"]] == ["FEEDBACK_INVALID"]
    assert any(step != signal for step, signal in decided_by), "a step decided by the process that did not route"
    assert verify(audit, KeySet.of(harness.signer)).ok

    # The figures count each signal once per status, however often a step was copied.
    day = datetime.now(UTC).date()
    counter = FigureCounter(Window(day - timedelta(days=1), day + timedelta(days=1), "year", prefix=prefix))
    for record in audit:
        counter.add(record)
    [row] = next(t for t in counter.tables() if t.name == "feedback").rows
    assert row[1:] == ("nla", "geselecteerd", SIGNALS)

    # Replay decides every step again as the two processes did.
    logged, inbound, reference_at = await load_for_replay(kafka, harness.rules, s.REFERENCE_FILE)
    replayed = Replayer(harness.rules, logged, reference_at).run(inbound)
    assert replayed.differences == []
    assert replayed.unverifiable == []
    assert replayed.identical == len(logged)

    # Nothing of it reaches the partner: its feedback topic holds its receipts only.
    receipts = [strict_loads(r.value or b"") for r in await harness.records(harness.topics.feedback(PartnerId("nla")))]
    assert len(receipts) == SIGNALS
    assert all("inbound" in receipt for receipt in receipts)
    assert json.dumps(receipts).count("geselecteerd") == 0


def _place(signal_id: str, audit: list[dict[str, Any]]) -> tuple[str, int]:
    [routed] = [a for a in audit if (a.get("destination") or {}).get("signal_id") == signal_id]
    return routed["inbound"]["topic"], routed["inbound"]["partition"]
