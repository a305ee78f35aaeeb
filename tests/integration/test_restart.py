"""Restarts through the real broker: chains continue, nothing is decided twice, duplicates are remembered."""

import asyncio
import json
import uuid
from collections import Counter

import pytest

from gateway.audit.verify import verify
from gateway.demo import samples as s
from gateway.demo.run import publish_samples
from gateway.demo.scenario import Sample
from gateway.kafka.runner import new_partner_producer
from gateway.keyset import KeySet
from gateway.metrics import REGISTRY
from gateway.reasons import Outcome
from gateway.types import PartnerId
from tests.helpers import good, now
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


def offsets(audit: list[dict]) -> Counter[tuple[int, int]]:
    return Counter((a["inbound"]["partition"], a["inbound"]["offset"]) for a in audit)


async def test_a_restarted_gateway_continues_every_chain(harness: Harness) -> None:
    first = await harness.publish(good(20))
    async with harness.gateway():
        await harness.wait_for_audit(20)
    second = await harness.publish(good(20))
    async with harness.gateway():
        audit = await harness.wait_for_audit(40)
    assert offsets(audit) == Counter((p.partition, p.offset) for p in first + second)
    assert verify(audit, KeySet.of(harness.signer)).ok  # seq continues without a gap
    assert max(offsets(audit).values()) == 1


async def test_decided_but_uncommitted_records_are_not_decided_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the audit write but before the commit: the next owner skips those records."""
    positions = await harness.publish(good(15))

    async def no_commit(self, offsets=None):  # type: ignore[no-untyped-def]
        return None

    monkeypatch.setattr("aiokafka.AIOKafkaConsumer.commit", no_commit)
    async with harness.gateway():
        await harness.wait_for_audit(15)
    monkeypatch.undo()
    async with harness.gateway() as service:
        more = await harness.publish(good(5))
        audit = await harness.wait_for_audit(20)
        assert await harness.decided_by(service, 5) == 5
    assert offsets(audit) == Counter((p.partition, p.offset) for p in positions + more)
    assert verify(audit, KeySet.of(harness.signer)).ok


async def test_a_retry_after_restart_is_a_duplicate(harness: Harness) -> None:
    event_id = f"retry-{uuid.uuid4()}"
    [report] = good(1, event_id)
    await harness.publish([report])
    async with harness.gateway():
        await harness.wait_for_audit(1)
    await harness.publish([report])  # the partner retries days later; the gateway restarted meanwhile
    async with harness.gateway():
        audit = await harness.wait_for_audit(2)
    assert [a["outcome"] for a in audit] == ["routed", "duplicate"]
    signals = await harness.records(harness.topics.destination("bd.detectie.mkb"))
    assert len(signals) == 1
    receipts = [json.loads(r.value) for r in await harness.records(harness.topics.feedback(PartnerId("nla")))]
    first_position = {k: audit[0]["inbound"][k] for k in ("topic", "partition", "offset")}
    # The digest of the first bytes, rebuilt from the audit log after the restart: the retry sent the same.
    assert receipts[1]["original"] == {**first_position, "event_digest": audit[0]["event"]["digest"]}
    assert receipts[1]["event_digest"] == receipts[1]["original"]["event_digest"]


async def test_reference_updates_are_followed_while_running(harness: Harness) -> None:
    client = "56789012"
    unknown = s.encode(s.event(s.nla_report(client), time=now()))
    sample = Sample(
        "new client",
        PartnerId("nla"),
        unknown,
        (("gkt-signature", s.sign(unknown, "nla-2025-01")),),
        Outcome.QUARANTINED,
    )
    async with harness.gateway():
        await publish_samples(harness.bootstrap, harness.rules, [sample])
        await harness.wait_for_audit(1)
        producer = new_partner_producer(harness.bootstrap)
        await producer.start()
        record = {
            "kvkNummer": client,
            "segment": "go",
            "horizontaalToezichtLoonheffingen": False,
            "aanwijzingDatum": None,
            "modelovereenkomstTot": None,
        }
        await producer.send_and_wait(harness.topics.reference, json.dumps(record).encode(), key=client.encode())
        await producer.stop()
        for _ in range(100):  # the follower applies it within a poll or two
            if harness.rules.reference.get(client) is not None:
                break
            await asyncio.sleep(0.05)
        value = s.encode(s.event(s.nla_report(client), time=now()))
        again = Sample(
            "known now", PartnerId("nla"), value, (("gkt-signature", s.sign(value, "nla-2025-01")),), Outcome.ROUTED
        )
        await publish_samples(harness.bootstrap, harness.rules, [again])
        audit = await harness.wait_for_audit(2)
    # The two reports may sit on different partitions, so on different chains: match by event id.
    decided = {a["event"]["id"]: (a["outcome"], (a["destination"] or {}).get("topic")) for a in audit}
    assert decided == {
        json.loads(unknown)["id"]: ("quarantined", harness.topics.quarantine),
        json.loads(value)["id"]: ("routed", harness.topics.destination("bd.detectie.go")),
    }


def already_decided() -> float:
    return REGISTRY.get_sample_value("gkt_already_decided_total") or 0.0


async def test_offsets_held_under_load_are_all_committed_before_the_gateway_stops(kafka: str, prefix: str) -> None:
    """Under load commits are held (at most one every half second); idle and stop commit what is held,
    so a restart after a clean stop reads nothing again."""
    harness = await Harness(kafka, prefix, batch_size=10).setup()
    first = await harness.publish(good(120))  # twelve batches and more, back to back
    async with harness.gateway():
        await harness.wait_for_audit(len(first))
    before = already_decided()
    more = await harness.publish(good(5))
    async with harness.gateway() as service:
        assert await harness.decided_by(service, len(more)) == len(more)
    assert already_decided() == before, "no record was read again"
    assert offsets(await harness.audit()) == Counter((p.partition, p.offset) for p in first + more)
