"""Before partitions move: the batch in hand is finished and its held audit records written, then heads go.

Otherwise the next owner could read a chain head without this process's last
audit records, decide those records again and fork the chain.
"""

import asyncio

from aiokafka import TopicPartition

from gateway.audit.index import AuditIndex
from gateway.audit.record import ChainHead
from gateway.kafka.service import _ChainLoader
from gateway.types import ChainId

CHAIN = ChainId("gkt.in.nla/0")


async def test_a_revoke_waits_for_the_batch_in_hand_and_writes_held_audit_records_first() -> None:
    busy = asyncio.Lock()
    events: list[str] = []
    heads = {CHAIN: ChainHead(CHAIN, 7, "sha256:" + "0" * 64, 41)}
    index = AuditIndex()

    async def finish(leaving: list[ChainId]) -> None:
        events.append(f"audit records written, head known: {CHAIN in heads}, checkpointed: {leaving}")

    loader = _ChainLoader(heads, index, busy, finish)
    await busy.acquire()  # a batch is being decided and written
    revoke = asyncio.create_task(loader.on_partitions_revoked([TopicPartition("gkt.in.nla", 0)]))
    await asyncio.sleep(0.05)
    assert not revoke.done(), "the rebalance waits for the batch in hand"
    events.append("batch written")
    busy.release()
    await revoke
    assert events == ["batch written", f"audit records written, head known: True, checkpointed: {[CHAIN]}"]
    assert CHAIN not in heads, "then the head is forgotten, to be read again from the log"
    assert index.head(CHAIN).seq == 7, "and handed to the index, never older than what was written"
