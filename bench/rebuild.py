"""`python -m bench.rebuild`: what the client memory costs (spec/selection.md), in one run on the embedded broker.

    python -m bench.rebuild [--records 100000] [--clients 1000000] [--bootstrap HOST:PORT]

Two figures (docs/performance.md):

- **memory**: the client memory holding ``--clients`` clients with one signal
  each, measured with tracemalloc, and how long filling it took;
- **rebuild**: how long a process takes at start to rebuild everything it keeps
  from ``gkt.audit`` (duplicate memory, quarantine, client memory) for
  ``--records`` audit records, as a ratio against a bare aiokafka consumer
  reading the same records in the same run.

The audit records are the gateway's own: a sample of the bench's usual mix is
decided in-process (Processor with a client memory), and copied to the size
asked with fresh ids, offsets and clients (30,000 distinct ones).
"""

import argparse
import asyncio
import contextlib
import json
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.workload import mixed
from contracts.jsonio import dumps, strict_loads
from gateway.audit.index import AuditIndex
from gateway.audit.record import ChainHead
from gateway.demo import samples as s
from gateway.demo.run import demo_settings
from gateway.inbound import InboundRecord, Position
from gateway.kafka.embedded import EmbeddedBroker
from gateway.kafka.follower import TopicFollower
from gateway.memories import AuditMemories
from gateway.processor import Processor
from gateway.rules_loader import load_rules
from gateway.selection.clients import ClientMemory, EarlierSignal
from gateway.selection.history import ClientHistory
from gateway.selection.key import ClientKey
from gateway.signing import Signer
from gateway.types import ChainId, PartnerId

PARTITIONS = 3
SAMPLE = 2_000
DISTINCT_CLIENTS = 30_000


def sample_audit(key: ClientKey) -> list[dict[str, Any]]:
    """The audit records of ``SAMPLE`` reports of the bench's mix, decided as the service decides them."""
    rules = load_rules(demo_settings(reference=s.REFERENCE_FILE))
    topic = rules.topics.inbound(PartnerId("nla"))
    now = datetime.now(UTC)
    records = [
        InboundRecord(Position(topic, 0, n), int(now.timestamp() * 1000), value, (("gkt-signature", sig),))
        for n, (value, sig) in enumerate(mixed(SAMPLE))
    ]
    processor = Processor(rules, Signer.generate("gw-bench"), AuditIndex(), "urn:x", clients=ClientHistory(key))
    chain = ChainId(f"{topic}/0")
    result = processor.process(records, {chain: ChainHead.empty(chain)})
    return [strict_loads(message.value) for message in result.audits]


def copies(sample: list[dict[str, Any]], count: int, key: ClientKey) -> Iterator[tuple[bytes, bytes]]:
    """``count`` audit records like ``sample``'s, each with its own place, ids and one of many clients."""
    clients = [key.digest(f"{n:08d}") for n in range(DISTINCT_CLIENTS)]
    for n in range(count):
        record = dict(sample[n % len(sample)])
        chain = f"gkt.in.nla/{n % PARTITIONS}"
        record.update(chain=chain, seq=n // PARTITIONS)
        record["inbound"] = {**record["inbound"], "partition": n % PARTITIONS, "offset": n // PARTITIONS}
        record["event"] = {**record["event"], "id": str(uuid.uuid4())}
        if record.get("destination") and record["destination"].get("signal_id"):
            record["destination"] = {**record["destination"], "signal_id": str(uuid.uuid4())}
        if "client" in record:
            record["client"] = clients[n % DISTINCT_CLIENTS]
        yield chain.encode(), dumps(record)


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=1_048_576)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def bare_read(bootstrap: str, topic: str, count: int) -> float:
    """Seconds a plain aiokafka consumer takes to read every record of ``topic``, doing nothing with them."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        started, seen = time.perf_counter(), 0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            seen += sum(len(records) for records in batches.values())
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def rebuild(bootstrap: str, topic: str, key: ClientKey) -> tuple[float, AuditMemories]:
    """Seconds the service's follower takes to read ``topic`` into fresh memories, as at start."""
    memories = AuditMemories(key)
    follower = TopicFollower(bootstrap, topic, lambda record: memories.apply(strict_loads(record.value or b"")))
    started = time.perf_counter()
    await follower.start()
    try:
        await follower.caught_up()
        return time.perf_counter() - started, memories
    finally:
        await follower.stop()


def memory_for(clients: int) -> tuple[float, float]:
    """MiB the client memory holds for ``clients`` clients with one signal each (tracemalloc), and seconds to
    fill it (timed in a second fill without tracemalloc, which slows every allocation)."""
    key = ClientKey.generate()
    base = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    signals = [
        (key.digest(f"{n:08d}"), EarlierSignal(base + n * 1000, str(uuid.uuid4()), "nla" if n % 3 else "kvk"))
        for n in range(clients)
    ]
    tracemalloc.start()
    held = fill(signals)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del held
    started = time.perf_counter()
    fill(signals)
    return size / 1_048_576, time.perf_counter() - started


def fill(signals: list[tuple[str, EarlierSignal]]) -> ClientMemory:
    memory = ClientMemory()
    for client, signal in signals:
        memory.remember(client, signal)
    if len(memory) != len(signals):
        raise SystemExit(f"the client memory kept {len(memory)} signals of {len(signals)}: no result")
    return memory


@contextlib.contextmanager
def broker(external: str | None) -> Iterator[str]:
    if external is not None:
        yield external
        return
    with EmbeddedBroker() as embedded:
        yield embedded.bootstrap


async def measure(bootstrap: str, count: int) -> dict[str, Any]:
    key = ClientKey.generate()
    records = list(copies(sample_audit(key), count, key))
    topic = f"r{int(time.time())}.gkt.audit"
    await produce(bootstrap, topic, records)
    bare = await bare_read(bootstrap, topic, count)
    seconds, memories = await rebuild(bootstrap, topic, key)
    signals = sum(1 for _, value in records if b'"client":' in value)
    if len(memories.clients.memory) != signals:
        raise SystemExit(f"rebuild remembered {len(memories.clients.memory)} signals of {signals}: no result")
    return {"signals": signals} | against_bare("rebuild", records, bare, seconds)


def against_bare(name: str, records: list[tuple[bytes, bytes]], bare: float, seconds: float) -> dict[str, Any]:
    """The figures of ``name`` taking ``seconds`` over ``records``, as a ratio to a bare aiokafka read of them."""
    count = len(records)
    return {
        "audit_records": count,
        "bytes_per_record": sum(len(value) for _, value in records) // count,
        "bare_read_s": round(bare, 3),
        f"{name}_s": round(seconds, 3),
        f"{name}_ratio": round(seconds / bare, 2),
        f"{name}_records_per_s": round(count / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="audit records to rebuild from")
    parser.add_argument("--clients", type=int, default=1_000_000, help="clients in the memory measured")
    parser.add_argument("--bootstrap", default=None, help="an external broker instead of the embedded one")
    options = parser.parse_args()
    mib, fill = memory_for(options.clients)
    with broker(options.bootstrap) as bootstrap:
        results = asyncio.run(measure(bootstrap, options.records))
    results |= {
        "clients": options.clients,
        "client_memory_mib": round(mib, 1),
        "bytes_per_client": round(mib * 1_048_576 / options.clients),
        "client_memory_fill_s": round(fill, 2),
    }
    print(json.dumps(results, indent=2))
    print(
        f"client memory: {results['client_memory_mib']} MiB for {options.clients:,} clients "
        f"({results['bytes_per_client']} bytes each), filled in {fill:.1f} s"
    )
    print(
        f"rebuild from {options.records:,} audit records: {results['rebuild_s']} s, "
        f"{results['rebuild_ratio']}x a bare aiokafka read of them ({results['bare_read_s']} s)"
    )


if __name__ == "__main__":
    main()
