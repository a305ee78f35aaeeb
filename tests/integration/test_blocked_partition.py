"""A batch nobody can decode holds its own partition only (spec/wire.md, "Partners' Kafka clients").

The broker here hands out an lz4 batch whose payload is not lz4 (its CRC is right, so only decoding fails):
what a corrupt store or a codec the process lacks looks like to the consumer. Before the guard, aiokafka
raised for the whole fetch and the gateway exited, again after every restart. tansu takes such a batch as
it is; Apache Kafka validates batches on produce, so this runs on the embedded broker only.
"""

import asyncio
import struct

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.util import calc_crc32c
from structlog.testing import capture_logs

from gateway.demo import samples as s
from gateway.metrics import REGISTRY
from gateway.types import PartnerId
from tests.helpers import now
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka
_LZ4 = 3
_ATTRIBUTES_AT, _CRC_AT = 21, 17  # v2 record batch: CRC32C covers everything from the attributes on


def undecodable_batch() -> bytes:
    """A v2 batch of one record that says lz4 but holds plain bytes, with a CRC that matches."""
    builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, batch_size=1 << 20)
    builder.append(0, timestamp=None, key=b"k", value=b"not lz4 at all " * 8, headers=[])
    batch = bytearray(builder.build())
    (attributes,) = struct.unpack_from(">h", batch, _ATTRIBUTES_AT)
    struct.pack_into(">h", batch, _ATTRIBUTES_AT, (attributes & ~0x07) | _LZ4)
    struct.pack_into(">I", batch, _CRC_AT, calc_crc32c(bytes(batch[_ATTRIBUTES_AT:])))
    return bytes(batch)


def report() -> tuple[bytes, list[tuple[str, bytes]]]:
    value = s.encode(s.event(s.nla_report(), time=now()))
    return value, [("gkt-signature", s.sign(value, "nla-2025-01"))]


async def test_an_undecodable_batch_holds_its_partition_while_the_others_go_on(kafka: str, prefix: str) -> None:
    harness = await Harness(kafka, prefix, trust_producer_time=True).setup()
    topic = harness.topics.inbound(PartnerId("nla"))
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        await producer.send_and_wait(topic, report()[0], partition=0, headers=report()[1])
        leader = producer.client.cluster.leader_for_partition(TopicPartition(topic, 0))
        answer = await producer.client.send(
            leader, ProduceRequest(None, -1, 10_000, [(topic, [(0, undecodable_batch())])])
        )
        [(_, [(_, error_code, bad_offset, *_)])] = answer.topics
        assert error_code == 0
        value, headers = report()
        await producer.send_and_wait(topic, value, partition=0, headers=headers)  # behind the bad batch
        for _ in range(3):
            value, headers = report()
            await producer.send_and_wait(topic, value, partition=1, headers=headers)
    finally:
        await producer.stop()

    labels = {"topic": topic, "partition": "0"}
    with capture_logs() as logs:
        async with harness.gateway() as service:
            audit = await harness.wait_for_audit(4)
            await asyncio.sleep(1.0)  # time to decide what it must not
            assert service.ready(), "the gateway is up"
            assert REGISTRY.get_sample_value("gkt_partition_blocked", labels) == 1
            audit = await harness.audit()
    decided = sorted((a["inbound"]["partition"], a["inbound"]["offset"]) for a in audit)
    assert decided == [(0, 0), (1, 0), (1, 1), (1, 2)], "partition 0 waits at the bad batch, nothing skipped"
    blocked = [line for line in logs if line["event"] == "partition_blocked"]
    assert len(blocked) == 1
    assert (blocked[0]["topic"], blocked[0]["partition"], blocked[0]["offset"]) == (topic, 0, bad_offset)
    assert blocked[0]["log_level"] == "error"
