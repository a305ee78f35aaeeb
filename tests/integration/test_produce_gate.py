"""Behind the produce gate, the embedded broker keeps every batch that several connections write to one
partition at once (bench/tansu_race.py measures the bare broker losing some)."""

import pytest

from bench.tansu_race import race

pytestmark = pytest.mark.kafka


async def test_concurrent_producers_to_one_partition_lose_nothing(kafka: str, prefix: str) -> None:
    lost = await race(kafka, rounds=25, prefix=f"{prefix}race", producers_count=4)
    assert lost == [0] * 25
