"""The bare pass-through as a process of its own, for the latency reference: relays one topic to another.

    python -m bench.relay BOOTSTRAP SOURCE TARGET

Consumes in batches, produces each batch to ``TARGET`` (acks from all replicas),
awaits the acks, commits: what the gateway does per batch, without deciding
anything. Its latency at a given rate is what the broker and aiokafka alone
cost on this machine; the bench prints the gateway's next to it. Stops on SIGTERM.
"""

import asyncio
import signal
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def relay(bootstrap: str, source: str, target: str) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"{source}-relay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
        max_poll_records=500,
        fetch_max_wait_ms=10,  # as the gateway's default (GKT_FETCH_MAX_WAIT_MS)
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0, max_batch_size=1_048_576)
    await consumer.start()
    await producer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            futures = []
            for tp, records in batches.items():
                batch = producer.create_batch()
                for record in records:
                    batch.append(key=record.key, value=record.value, timestamp=None, headers=list(record.headers))
                futures.append(await producer.send_batch(batch, target, partition=tp.partition))
            await asyncio.gather(*futures)
            if batches:
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


if __name__ == "__main__":
    asyncio.run(relay(*sys.argv[1:4]))
