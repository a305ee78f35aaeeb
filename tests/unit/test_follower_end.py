"""A follower is caught up only at every partition's high watermark, never because one poll came back empty."""

import asyncio

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from gateway.inbound import InboundRecord
from gateway.kafka.follower import TopicFollower

TOPIC = "t.gkt.audit"


class SlowBroker:
    """A consumer whose fetches answer only after ``empty_polls`` polls, as a busy broker's do."""

    def __init__(self, counts: dict[int, int], empty_polls: int) -> None:
        self._tps = {TopicPartition(TOPIC, p): n for p, n in counts.items()}
        self._empty_polls = empty_polls
        self._highwater: dict[TopicPartition, int] = {}
        self._position: dict[TopicPartition, int] = {}

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        await asyncio.sleep(0)
        if self._empty_polls:
            self._empty_polls -= 1
            return {}
        batches = {}
        for tp, count in self._tps.items():
            self._highwater[tp] = count
            start, self._position[tp] = self._position.get(tp, 0), count
            batches[tp] = [
                ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, None, b"{}", None, 0, 2, [])
                for offset in range(start, count)
            ]
        return batches

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def topics(self) -> set[str]:
        return {TOPIC}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {tp.partition for tp in self._tps}

    def assign(self, partitions: list[TopicPartition]) -> None:
        assert set(partitions) == set(self._tps)

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None: ...

    def assignment(self) -> set[TopicPartition]:
        return set(self._tps)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self._highwater.get(tp)

    async def position(self, tp: TopicPartition) -> int:
        return self._position.get(tp, 0)


@pytest.mark.parametrize("empty_polls", [0, 1, 5])
@pytest.mark.parametrize("counts", [{0: 3, 1: 0, 2: 7}, {0: 0}])
async def test_caught_up_means_every_record_written_was_applied(
    counts: dict[int, int], empty_polls: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied: list[InboundRecord] = []
    monkeypatch.setattr("gateway.kafka.follower.AIOKafkaConsumer", lambda **_: SlowBroker(counts, empty_polls))
    follower = TopicFollower("127.0.0.1:1", TOPIC, applied.append)
    await follower.start()
    try:
        await follower.caught_up(limit_seconds=5)
        assert len(applied) == sum(counts.values())
    finally:
        await follower.stop()
