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

    def __init__(self, counts: dict[int, int], empty_polls: int, open_transaction: int = 0) -> None:
        self._tps = {TopicPartition(TOPIC, p): n for p, n in counts.items()}
        self._empty_polls = empty_polls
        # Records at the end of each partition in a transaction still open: read_committed stops before them.
        self._open = open_transaction
        self._highwater: dict[TopicPartition, int] = {}
        self._position: dict[TopicPartition, int] = {}

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        await asyncio.sleep(0)
        if self._empty_polls:
            self._empty_polls -= 1
            return {}
        batches = {}
        for tp, written in self._tps.items():
            self._highwater[tp] = written
            count = self.stable(tp)
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

    def stable(self, tp: TopicPartition) -> int:
        return max(0, self._tps[tp] - self._open)

    def last_stable_offset(self, tp: TopicPartition) -> int | None:
        return self.stable(tp) if self._open and tp in self._highwater else None

    def paused(self) -> set[TopicPartition]:
        return set()

    async def position(self, tp: TopicPartition) -> int:
        return self._position.get(tp, 0)


@pytest.mark.parametrize("empty_polls", [0, 1, 5])
@pytest.mark.parametrize("counts", [{0: 3, 1: 0, 2: 7}, {0: 0}])
async def test_caught_up_means_every_record_written_was_applied(
    counts: dict[int, int], empty_polls: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied: list[InboundRecord] = []
    monkeypatch.setattr("gateway.kafka.follower.new_consumer", lambda **_: SlowBroker(counts, empty_polls))
    follower = TopicFollower("127.0.0.1:1", TOPIC, applied.append)
    await follower.start()
    try:
        await follower.caught_up(limit_seconds=5)
        assert len(applied) == sum(counts.values())
    finally:
        await follower.stop()


async def test_an_open_transaction_ends_reading_at_the_last_stable_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    """read_committed never reads past an open transaction: caught up there, not at the high watermark."""
    applied: list[InboundRecord] = []
    broker = SlowBroker({0: 5, 1: 3}, empty_polls=1, open_transaction=2)
    monkeypatch.setattr("gateway.kafka.follower.new_consumer", lambda **_: broker)
    follower = TopicFollower("127.0.0.1:1", TOPIC, applied.append)
    await follower.start()
    try:
        await follower.caught_up(limit_seconds=5)
        assert sorted((r.position.partition, r.position.offset) for r in applied) == [(0, 0), (0, 1), (0, 2), (1, 0)]
    finally:
        await follower.stop()
