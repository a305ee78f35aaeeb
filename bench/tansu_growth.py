"""Shows what makes the embedded broker slow down as a run goes on: record batches held in a partition.

Each case starts a fresh broker, fills it, then measures for a few seconds what a
latency run does: one-record produces at a steady rate into a 3-partition topic,
read back by a consumer that spends 3 ms on each poll (as a gateway would
deciding a batch). It prints the age of each record when the consumer gets it
and the time to each produce acknowledgement, p50 / p99 in ms, and the
broker's CPU over the measure.

    python -m bench.tansu_growth [--records 30000] [--rate 1000] [--seconds 4]

The cases: nothing stored; the records in another topic, one a batch; the
records in the measured topic, sent 100 at a time (a batch a partition); the
same, one a batch. On tansu
0.6.0 (memory storage) only the last is slow, and it gets slower with every
batch: the cost of a request grows with the number of batches the partition
holds, not with records or bytes, nor with what other partitions hold. A
partner that sends each report on its own (no linger) writes a batch a
report, so at 1,000 a second each of 3 partitions gains 330 batches a second.
"""

import argparse
import asyncio
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.measure import PARTITIONS, cpu_seconds, create
from gateway.kafka.embedded import EmbeddedBroker

RECORD = b"x" * 1000
POLL_WORK_S = 0.003


async def fill(bootstrap: str, topic: str, records: int, per_batch: int) -> dict[int, int]:
    """Write ``records`` in acknowledged rounds of ``per_batch``; the end offset of each partition."""
    ends: dict[int, int] = {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    try:
        for _ in range(0, records, per_batch):
            sent = [await producer.send(topic, RECORD, key=str(n % 97).encode()) for n in range(per_batch)]
            for meta in await asyncio.gather(*sent):
                ends[meta.partition] = meta.offset + 1
    finally:
        await producer.stop()
    return ends


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else float("nan")


async def measure(bootstrap: str, topic: str, ends: dict[int, int], rate: int, seconds: float) -> dict[str, float]:
    """Record age on arrival and produce acknowledgement times, at ``rate`` one-record produces a second."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=10
    )
    await producer.start()
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    for tp in partitions:
        consumer.seek(tp, ends.get(tp.partition, 0))  # past the fill: tansu's ListOffsets "latest" is wrong
    ages: list[float] = []
    acks: list[float] = []
    done = asyncio.Event()

    async def consume() -> None:
        while not done.is_set():
            batches = await consumer.getmany(timeout_ms=100)
            now = time.time()
            ages.extend(now - record.timestamp / 1000 for records in batches.values() for record in records)
            await asyncio.sleep(POLL_WORK_S)

    def timed(sent_at: float) -> Callable[[object], None]:
        return lambda _: acks.append(time.time() - sent_at)

    reader = asyncio.create_task(consume())
    pending: list[asyncio.Future[object]] = []
    try:
        started = time.perf_counter()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            future = await producer.send(topic, RECORD, key=str(n % 97).encode())
            future.add_done_callback(timed(time.time()))
            pending.append(future)
        await asyncio.gather(*pending)
        await asyncio.sleep(0.3)
    finally:
        done.set()
        await reader
        await producer.stop()
        await consumer.stop()
    return {
        "sent": len(pending),
        "received": len(ages),
        "age_p50_ms": _pct(ages, 0.5),
        "age_p99_ms": _pct(ages, 0.99),
        "ack_p50_ms": _pct(acks, 0.5),
        "ack_p99_ms": _pct(acks, 0.99),
    }


CASES = {
    "nothing stored": None,
    "records in another topic, 1 a batch": ("other", 1),
    "records in this topic, sent 100 at a time": ("probe", 100),
    "records in this topic, 1 a batch": ("probe", 1),
}


async def case(fill_with: tuple[str, int] | None, records: int, rate: int, seconds: float) -> dict[str, float]:
    """One case on a fresh broker: fill (``(topic, records a batch)``, or nothing), then measure."""
    with EmbeddedBroker(gate_produce=False) as broker:
        await create(broker.bootstrap, "probe", "other")
        ends: dict[int, int] = {}
        if fill_with is not None:
            topic, per_batch = fill_with
            filled = await fill(broker.bootstrap, topic, records, per_batch)
            ends = filled if topic == "probe" else {}
        assert broker.pid is not None  # started by the with
        before, started = cpu_seconds(broker.pid), time.perf_counter()
        result = await measure(broker.bootstrap, "probe", ends, rate, seconds)
        result["broker_cores"] = round((cpu_seconds(broker.pid) - before) / (time.perf_counter() - started), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=30_000, help="records stored before the measure")
    parser.add_argument("--rate", type=int, default=1_000, help="one-record produces a second while measuring")
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    print(f"{args.records} records stored, then {args.rate} one-record produces a second for {args.seconds} s")
    print(f"{'case':<40} {'age p50/p99 ms':>16} {'ack p50/p99 ms':>16} {'broker cores':>13}")
    for name, fill_with in CASES.items():
        r = asyncio.run(case(fill_with, args.records, args.rate, args.seconds))
        ages, acks = f"{r['age_p50_ms']} / {r['age_p99_ms']}", f"{r['ack_p50_ms']} / {r['ack_p99_ms']}"
        print(f"{name:<40} {ages:>16} {acks:>16} {r['broker_cores']:>13}")


if __name__ == "__main__":
    main()
