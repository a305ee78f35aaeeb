"""Broker time (spec/wire.md): every time rule is judged at a moment no sender chose (G8).

On the embedded broker every record carries its producer's timestamp (CreateTime), whatever the topic
says: exactly what a sender who backdates its records looks like on a topic that is not LogAppendTime.
"""

import asyncio
from datetime import UTC, datetime

import pytest

from contracts.jsonio import strict_loads
from gateway.demo import samples as s
from gateway.errors import ConfigError
from gateway.kafka.admin import ensure_topics
from gateway.kafka.follower import read_all
from gateway.kafka.runner import new_partner_producer
from gateway.provision.plan import TopicSpec
from gateway.types import PartnerId
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka
# nla-2024-01 was valid until 2025-02-01 (contracts/agreements/nla/2025.1.toml): today it is not.
KEY_STILL_VALID_THEN = datetime(2025, 1, 20, 10, 0, tzinfo=UTC)


async def send_backdated(harness: Harness) -> bytes:
    """A report signed with a key that is no longer valid, dated by its producer to when it was."""
    value = s.encode(s.event(s.nla_report(inspectieDatum="2025-01-15"), time=KEY_STILL_VALID_THEN))
    producer = new_partner_producer(harness.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            harness.topics.inbound(PartnerId("nla")),
            value,
            headers=[("gkt-signature", s.sign(value, "nla-2024-01"))],
            timestamp_ms=int(KEY_STILL_VALID_THEN.timestamp() * 1000),
        )
    finally:
        await producer.stop()
    return value


@pytest.mark.parametrize("trusted", [False, True], ids=["broker-time", "producer-time-trusted"])
async def test_a_backdated_record_with_an_expired_key_is_refused_unless_producer_time_is_trusted(
    kafka: str, prefix: str, trusted: bool
) -> None:
    harness = await Harness(kafka, prefix, trust_producer_time=trusted).setup()
    await send_backdated(harness)
    async with harness.gateway():
        [audit] = await harness.wait_for_audit(1)
    assert audit["inbound"]["timestamp_type"] == "CreateTime"
    receipts = await read_all(kafka, harness.topics.feedback(PartnerId("nla")))
    [receipt] = [strict_loads(r.value) for r in receipts]
    if trusted:
        # Why trust is off in production: the sender chose the moment, and the expired key passed.
        assert audit["outcome"] == "routed"
        return
    assert audit["outcome"] == "rejected"
    assert [r["code"] for r in audit["reasons"]] == ["TIMESTAMP_UNTRUSTED"]
    assert receipt["outcome"] == "rejected"
    assert [r["code"] for r in receipt["reasons"]] == ["TIMESTAMP_UNTRUSTED"]
    assert receipt["id"] is not None, "the partner can tell which report it was"
    [dead] = await read_all(kafka, harness.topics.deadletter)
    assert dict(dead.headers)["gkt-reason"] == b"TIMESTAMP_UNTRUSTED"


async def test_the_gateway_refuses_to_start_on_an_inbound_topic_not_dated_by_the_broker(
    kafka: str, prefix: str
) -> None:
    harness = Harness(kafka, prefix, trust_producer_time=True)  # trust does not lift the start check
    inbound = harness.topics.inbound(PartnerId("nla"))
    await ensure_topics(kafka, [TopicSpec(inbound, 2, {})])  # made by hand, message.timestamp.type unset
    await harness.setup()
    with pytest.raises(ConfigError) as refused:
        async with harness.gateway():
            await asyncio.sleep(0)
    message = str(refused.value)
    assert "message.timestamp.type must be LogAppendTime" in message
    assert f"{inbound} (not set)" in message
    assert harness.topics.inbound(PartnerId("kvk")) not in message, "the topics made by the gateway are right"
    assert "\n" not in message


async def test_the_gateway_refuses_to_start_when_gkt_review_has_more_than_one_partition(
    kafka: str, prefix: str
) -> None:
    """One partition puts every verdict on an item before one process, in order (spec/wire.md, review.md)."""
    harness = Harness(kafka, prefix, trust_producer_time=True)
    await ensure_topics(kafka, [TopicSpec(harness.topics.review, 2, {"message.timestamp.type": "LogAppendTime"})])
    await harness.setup()
    with pytest.raises(ConfigError) as refused:
        async with harness.gateway():
            await asyncio.sleep(0)
    assert str(refused.value).startswith(f"{harness.topics.review} has 2 partitions; it must have exactly one")


async def test_a_verdict_dated_by_its_producer_is_refused_before_anything_else(kafka: str, prefix: str) -> None:
    """gkt.review is judged at broker time too: the verdict's time decides which reviewer keys count."""
    harness = await Harness(kafka, prefix, trust_producer_time=False).setup()
    item = f"{harness.topics.inbound(PartnerId('kvk'))}/0/0"
    value = s.verdict(item, "sha256:" + "0" * 64, "release", "r-0001", KEY_STILL_VALID_THEN)
    producer = new_partner_producer(kafka)
    await producer.start()
    try:
        await producer.send_and_wait(
            harness.topics.review,
            value,
            key=item.encode(),
            headers=[("gkt-signature", s.sign_verdict(value, "r-0001"))],
            timestamp_ms=int(KEY_STILL_VALID_THEN.timestamp() * 1000),
        )
    finally:
        await producer.stop()
    async with harness.gateway():
        [audit] = await harness.wait_for_audit(1)
    assert audit["outcome"] == "rejected"
    assert [r["code"] for r in audit["reasons"]] == ["TIMESTAMP_UNTRUSTED"]
    assert audit["inbound"]["timestamp_type"] == "CreateTime"
    assert audit["review"]["reviewer"] is None, "nothing verified: no reviewer named"
