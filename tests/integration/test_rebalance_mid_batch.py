"""A second gateway joins while the first has a batch in hand: through the real broker, the rebalance waits
for that batch, and no record is decided twice, no chain forks, no receipt is missing."""

import asyncio
from collections import Counter

import pytest
from aiokafka import TopicPartition

from contracts.jsonio import strict_loads
from gateway.audit.verify import verify
from gateway.inbound import Position
from gateway.kafka import service as service_module
from gateway.kafka.writer import Writer
from gateway.keyset import KeySet
from gateway.outputs import OutMessage
from gateway.types import PartnerId
from tests.helpers import good
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka

REPORTS = 600


async def test_a_member_joining_mid_batch_waits_for_it_and_forks_no_chain(
    kafka: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await Harness(kafka, prefix, partitions=3, batch_size=50).setup()
    events: list[str] = []
    held = asyncio.Event()  # the first gateway's first write has begun
    asked = asyncio.Event()  # the first gateway was asked to give partitions up
    release = asyncio.Event()  # ... and may finish
    write = Writer.write

    async def held_write(self: Writer, messages: list[OutMessage]) -> None:
        if not held.is_set():
            held.set()
            events.append("write held")
            await release.wait()
            events.append("write released")
        await write(self, messages)

    revoked = service_module._ChainLoader.on_partitions_revoked

    async def noted_revoke(self: service_module._ChainLoader, partitions: list[TopicPartition]) -> None:
        owner = bool(partitions)  # a member that joins owns nothing yet: its revoke is empty
        events.append("revoke asked" if owner else "empty revoke")
        if owner:
            asked.set()
        await revoked(self, partitions)
        events.append("revoke done" if owner else "empty revoke done")

    monkeypatch.setattr(Writer, "write", held_write)
    monkeypatch.setattr(service_module._ChainLoader, "on_partitions_revoked", noted_revoke)

    positions = await harness.publish(good(REPORTS))
    async with harness.gateway():
        await asyncio.wait_for(held.wait(), 30)
        events.clear()  # revokes from the first gateway's own start are not the point
        events.append("write held")

        async def join_then_release() -> None:
            await asked.wait()
            await asyncio.sleep(0.3)  # the rebalance is waiting on the batch in hand
            release.set()

        releaser = asyncio.create_task(join_then_release())
        async with harness.gateway():
            await releaser
            audit = await harness.wait_for_audit(REPORTS)
    assert events.index("revoke asked") < events.index("write released") < events.index("revoke done"), events
    decided = Counter((a["inbound"]["partition"], a["inbound"]["offset"]) for a in audit)
    assert len(decided) == REPORTS, "every record decided"
    assert max(decided.values()) == 1, "none twice"
    report = verify(audit, KeySet.of(harness.signer))
    assert report.ok, report.problems[:3]
    receipts = await harness.records(harness.topics.feedback(PartnerId("nla")))
    receipted = {Position.of(strict_loads(r.value)["inbound"]) for r in receipts if r.value is not None}
    assert receipted == set(positions), "every record has its receipt"
