"""Where auditors read the log from: Kafka (``gkt.audit`` and the inbound topics) or an export file."""

from collections.abc import Callable, Iterator
from pathlib import Path

from aiokafka import ConsumerRecord

from gateway.kafka.follower import TopicFollower


def export_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, bytes)`` of a JSON Lines export, skipping blank lines."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\n")
            if line.strip():
                yield number, line


async def follow_once(bootstrap: str, topic: str, apply: Callable[[ConsumerRecord], None]) -> None:
    """Apply every record of ``topic`` written so far, then stop."""
    follower = TopicFollower(bootstrap, topic, apply)
    await follower.start()
    try:
        await follower.caught_up(limit_seconds=600)
    finally:
        await follower.stop()


async def inbound_offsets(bootstrap: str, topics: list[str]) -> dict[str, list[int]]:
    """Offsets still present on each inbound partition, by chain id ``<topic>/<partition>``."""
    present: dict[str, list[int]] = {}

    def note(record: ConsumerRecord) -> None:
        present.setdefault(f"{record.topic}/{record.partition}", []).append(record.offset)

    for topic in topics:
        await follow_once(bootstrap, topic, note)
    return present
