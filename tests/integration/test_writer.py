"""The writer through the real broker: one record batch per partition, nothing lost, order and placement kept."""

import random

import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from gateway.kafka.follower import read_all
from gateway.kafka.writer import Writer, new_producer, partition_for
from gateway.outputs import OutMessage
from tests.integration.harness import Harness


@given(st.binary(max_size=64), st.integers(min_value=1, max_value=64))
def test_a_keyed_record_goes_where_the_default_partitioner_sends_it(key: bytes, partitions: int) -> None:
    everyone = list(range(partitions))
    assert partition_for(key, partitions) == DefaultPartitioner()(key, everyone, everyone)


async def test_every_record_arrives_once_in_order_on_its_keys_partition(harness: Harness) -> None:
    topic = harness.topics.quarantine  # any topic of the test's own; it has harness.settings.partitions
    chains = [f"{harness.topics.inbound('nla')}/{p}".encode() for p in range(3)]
    rng = random.Random(7)
    messages = []
    for i in range(2_000):
        key = rng.choice([*chains, f"signal-{i}".encode(), None])
        value = f'{{"n":{i},"pad":"{"x" * rng.randrange(0, 600)}"}}'.encode()
        messages.append(OutMessage(topic, key, value, (("gkt-n", str(i).encode()),)))
    # Batches far smaller than the write, so full batches are submitted midway and new ones follow.
    producer = new_producer(harness.bootstrap, max_batch_size=16_384)
    await producer.start()
    try:
        await Writer(producer).write(messages[:1_500])
        await Writer(producer).write(messages[1_500:])
    finally:
        await producer.stop()

    records = await read_all(harness.bootstrap, topic)
    assert sorted(r.value for r in records) == sorted(m.value for m in messages), "each record exactly once"
    written = {m.value: m for m in messages}
    everyone = list(range(harness.settings.partitions))
    for record in records:
        sent = written[record.value or b""]
        assert record.key == sent.key
        assert record.headers == sent.headers
        if sent.key is not None:
            assert record.position.partition == DefaultPartitioner()(sent.key, everyone, everyone)
    for partition in everyone:
        here = [r for r in records if r.position.partition == partition]
        here.sort(key=lambda r: r.position.offset)
        numbers = [int(dict(r.headers)["gkt-n"] or b"") for r in here]
        assert numbers == sorted(numbers), f"partition {partition} keeps the order records were given in"
    keyless = {r.position.partition for r in records if r.key is None}
    assert len(keyless) == len(everyone), "records without a key are spread over every partition"


async def test_an_output_whose_signature_is_still_pending_is_never_written() -> None:
    class Pending:
        def result(self) -> str:
            return "x..y"

    unsigned = OutMessage("gkt.feedback.nla", b"k", b"{}", (), Pending())
    with pytest.raises(ValueError, match="signature complete"):
        await Writer(producer=object()).write([unsigned])  # type: ignore[arg-type]
    assert unsigned.complete().headers == (("gkt-signature", b"x..y"),)
