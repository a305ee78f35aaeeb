"""Reading a whole topic through the real broker: the total it reports, for the auditor's progress bar."""

from gateway.kafka.follower import read_once
from gateway.kafka.runner import new_partner_producer
from tests.integration.harness import Harness


async def test_read_once_reports_the_topics_size(harness: Harness) -> None:
    topic = harness.topics.quarantine  # any topic of the test's own
    producer = new_partner_producer(harness.bootstrap)
    await producer.start()
    try:
        for i in range(1200):
            await producer.send(topic, b"{}", key=str(i).encode())
        await producer.flush()
    finally:
        await producer.stop()
    read: list[int] = []
    totals: list[tuple[int, int]] = []

    def apply(_: object) -> None:
        read.append(1)

    await read_once(harness.bootstrap, topic, apply, lambda total: totals.append((len(read), total)))
    assert len(read) == 1200
    assert totals[-1] == (1200, 1200)
    assert all(total == 1200 for _, total in totals if total), "the total is right from the first fetch on"
