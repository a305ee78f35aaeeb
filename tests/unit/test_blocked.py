"""A partition at an undecodable batch waits there, tries again later, and is let go when it moves."""

from aiokafka import TopicPartition
from structlog.testing import capture_logs

from gateway.kafka.blocked import BlockedPartitions
from gateway.metrics import REGISTRY

A, B = TopicPartition("t.gkt.in.nla", 0), TopicPartition("t.gkt.in.nla", 1)


class Consumer:
    """The pause/resume surface of an aiokafka consumer."""

    def __init__(self, *assigned: TopicPartition) -> None:
        self.assigned = set(assigned)
        self.stopped: set[TopicPartition] = set()

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    def paused(self) -> set[TopicPartition]:
        return self.stopped

    def pause(self, *partitions: TopicPartition) -> None:
        self.stopped |= set(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.stopped -= set(partitions)


def blocked_gauge(tp: TopicPartition) -> float | None:
    return REGISTRY.get_sample_value("gkt_partition_blocked", {"topic": tp.topic, "partition": str(tp.partition)})


def test_a_blocked_partition_is_paused_retried_and_released() -> None:
    clock = [100.0]
    blocks = BlockedPartitions(clock=lambda: clock[0], retry_seconds=30)
    consumer = Consumer(A, B)
    with capture_logs() as logs:
        blocks.report(A.topic, A.partition, 41, ValueError("bytes of the batch"))
        blocks.report(A.topic, A.partition, 41, ValueError("again"))  # the same batch: no second line
    assert [(line["event"], line["offset"], line["error"]) for line in logs] == [
        ("partition_blocked", 41, "ValueError")
    ]
    assert "bytes of the batch" not in str(logs), "the error's message may quote the batch"
    assert blocked_gauge(A) == 1
    blocks.hold(consumer)
    assert consumer.stopped == {A}, "only the blocked partition waits"
    clock[0] += 29
    blocks.hold(consumer)
    assert consumer.stopped == {A}
    clock[0] += 2
    blocks.hold(consumer)
    assert consumer.stopped == set(), "due: the next fetch tries the batch again"
    blocks.report(A.topic, A.partition, 41, ValueError())  # still undecodable
    blocks.hold(consumer)
    assert consumer.stopped == {A}
    blocks.delivered(A.topic, A.partition, 40)
    assert blocks.blocked() == {(A.topic, 0): 41}, "a record before the batch does not end the block"
    blocks.delivered(A.topic, A.partition, 41)
    assert blocks.blocked() == {}
    assert blocked_gauge(A) == 0


def test_a_partition_that_moves_away_is_forgotten_here() -> None:
    blocks = BlockedPartitions()
    blocks.report(B.topic, B.partition, 7, KeyError())
    assert blocked_gauge(B) == 1
    blocks.forget([B])
    assert blocks.blocked() == {}
    assert blocked_gauge(B) == 0
    consumer = Consumer(A)
    blocks.hold(consumer)
    assert consumer.stopped == set()
