"""The bare pass-through: what the gateway does per batch, without deciding anything.

    python -m bench.relay BOOTSTRAP SOURCE TARGET

Consumes in batches, produces each batch to ``TARGET`` (one record batch per
partition, acks from all replicas), awaits the acks, commits. The bench
measures its throughput (the ceiling, ``bench.measure.passthrough``) and, run
as a process of its own with this command, its latency at a given rate: what
the broker and aiokafka alone cost on this machine, printed next to the
gateway's. Stops on SIGTERM.
"""

import asyncio
import signal
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition


def relay_consumer(bootstrap: str, source: str, fetch_max_wait_ms: int = 500) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"{source}-relay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
        max_poll_records=500,
        fetch_max_wait_ms=fetch_max_wait_ms,
    )


def relay_producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0, max_batch_size=1_048_576)


async def forward(
    consumer: AIOKafkaConsumer,
    producer: AIOKafkaProducer,
    batches: dict[TopicPartition, list[ConsumerRecord]],
    target: str,
) -> int:
    """Produce ``batches`` to the same partitions of ``target``, await the acks, commit; how many records."""
    futures = []
    for tp, records in batches.items():
        batch = producer.create_batch()
        for record in records:
            batch.append(key=record.key, value=record.value, timestamp=None, headers=list(record.headers))
        futures.append(await producer.send_batch(batch, target, partition=tp.partition))
    await asyncio.gather(*futures)
    if batches:
        await consumer.commit()
    return sum(len(records) for records in batches.values())


async def relay(bootstrap: str, source: str, target: str) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    consumer = relay_consumer(bootstrap, source, fetch_max_wait_ms=10)  # as the gateway's GKT_FETCH_MAX_WAIT_MS
    producer = relay_producer(bootstrap)
    await consumer.start()
    await producer.start()
    try:
        while not stop.is_set():
            await forward(consumer, producer, await consumer.getmany(timeout_ms=200, max_records=500), target)
    finally:
        await consumer.stop()
        await producer.stop()


if __name__ == "__main__":
    asyncio.run(relay(*sys.argv[1:4]))
