"""Partners publish with clients we did not write (spec/wire.md, "Partners' Kafka clients"; G8).

librdkafka (confluent-kafka; the same library is under the Go, .NET and Node clients) produces signed
reports in every codec, idempotently and in transactions; librdkafka also reads the receipts and signals
back and checks the gateway's signatures. Every report is decided exactly once, with its receipt, and the
gateway stays up. The abort case needs a broker that hands out the aborted-transaction list: Apache Kafka.
"""

import asyncio
import json
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from gateway.audit.sources import inbound_offsets
from gateway.audit.verify import ChainVerifier, verify
from gateway.demo import samples as s
from gateway.inbound import SIGNATURE_HEADER
from gateway.keyset import KeySet
from gateway.signing import verify_detached
from gateway.types import PartnerId
from tests.helpers import now
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka
PER_MODE = 12
NEW_CLIENT = "81234567"  # not in the sample reference data: known only from the snappy record
MODES: dict[str, dict[str, Any]] = {
    **{
        f"codec-{codec}": {"compression.type": codec, "linger.ms": 20}
        for codec in ("none", "gzip", "snappy", "lz4", "zstd")
    },
    "idempotent": {"enable.idempotence": True, "compression.type": "lz4"},
    "transactional": {"transactional.id": "nla-tx", "compression.type": "zstd"},
}


def signed_report() -> tuple[bytes, list[tuple[str, bytes]]]:
    value = s.encode(s.event(s.nla_report(), time=now()))
    return value, [(SIGNATURE_HEADER, s.sign(value, "nla-2025-01"))]


def produce(bootstrap: str, topic: str, config: dict[str, Any], count: int, *, abort: bool = False) -> list[str]:
    """Publish ``count`` signed reports as a partner's librdkafka producer would; their event ids."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", **config})
    failures: list[str] = []
    ids = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(str(error))

    transactional = "transactional.id" in config
    if transactional:
        producer.init_transactions(30)
        producer.begin_transaction()
    for _ in range(count):
        value, headers = signed_report()
        ids.append(json.loads(value)["id"])
        producer.produce(topic, value, key=uuid.uuid4().bytes, headers=headers, on_delivery=delivered)
    producer.flush(30)  # before an abort too: librdkafka drops what it has not sent when a transaction aborts
    if transactional:
        (producer.abort_transaction if abort else producer.commit_transaction)(30)
    assert not failures, failures
    return ids


def send_plain(bootstrap: str, topic: str, value: bytes) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    producer.produce(topic, value, headers=[(SIGNATURE_HEADER, s.sign(value, "nla-2025-01"))])
    assert producer.flush(30) == 0


def read_back(bootstrap: str, topics: list[str], wanted: int, limit_seconds: float = 30.0) -> list[Any]:
    """Every record on ``topics`` as librdkafka reads them, once ``wanted`` have come (or the time is up)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    try:
        metadata = consumer.list_topics(timeout=10)
        consumer.assign(
            [TopicPartition(t, p, 0) for t in topics for p in metadata.topics[t].partitions]  # from offset 0
        )
        records: list[Any] = []
        deadline = time.monotonic() + limit_seconds
        while len(records) < wanted and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=500, timeout=0.5):
                if message.error() is None:
                    records.append(message)
        return records
    finally:
        consumer.close()


def signed_by_gateway(message: Any, harness: Harness) -> bool:
    tokens = [value for key, value in message.headers() or [] if key == SIGNATURE_HEADER]
    return len(tokens) == 1 and verify_detached(tokens[0].decode(), message.value(), harness.signer.key, "EdDSA")


def publish_reference(bootstrap: str, topic: str, kvk_nummer: str) -> None:
    """The Belastingdienst's own librdkafka producer adds a client, snappy-compressed."""
    client = {"kvkNummer": kvk_nummer, "segment": "go", "horizontaalToezichtLoonheffingen": False,
              "aanwijzingDatum": None, "modelovereenkomstTot": None}  # fmt: skip
    producer = Producer({"bootstrap.servers": bootstrap, "compression.type": "snappy", "acks": "all"})
    producer.produce(topic, json.dumps(client).encode(), key=kvk_nummer.encode())
    assert producer.flush(30) == 0


async def test_every_codec_idempotence_and_transactions_of_librdkafka(kafka: str, prefix: str) -> None:
    harness = await Harness(kafka, prefix, trust_producer_time=True).setup()
    inbound = harness.topics.inbound(PartnerId("nla"))
    sent: dict[str, list[str]] = {}
    for mode, config in MODES.items():
        sent[mode] = await asyncio.to_thread(produce, kafka, inbound, config, PER_MODE)
    await asyncio.to_thread(publish_reference, kafka, harness.topics.reference, NEW_CLIENT)
    about_new = s.encode(s.event(s.nla_report(NEW_CLIENT), time=now()))
    await asyncio.to_thread(send_plain, kafka, inbound, about_new)
    sent["reference-snappy"] = [json.loads(about_new)["id"]]
    total = PER_MODE * len(MODES) + 1
    async with harness.gateway() as service:
        audit = await harness.wait_for_audit(total)
        assert await harness.decided_by(service, total) == total
        assert service.ready(), "the gateway stays up"

    reports = [a for a in audit if a["inbound"]["topic"] == inbound]
    [new_client] = [a for a in reports if a["event"]["id"] == sent["reference-snappy"][0]]
    assert new_client["destination"]["topic"] == harness.topics.destination("bd.detectie.go"), (
        "the snappy reference record was read"
    )
    assert Counter(a["event"]["id"] for a in reports) == Counter(i for ids in sent.values() for i in ids)
    assert {a["outcome"] for a in reports} == {"routed"}
    assert verify(audit, KeySet.of(harness.signer)).ok

    feedback = harness.topics.feedback(PartnerId("nla"))
    receipts = await asyncio.to_thread(read_back, kafka, [feedback], total)
    assert all(signed_by_gateway(m, harness) for m in receipts), "librdkafka reads receipts the gateway signed"
    assert Counter(json.loads(m.value())["id"] for m in receipts) == Counter(a["event"]["id"] for a in reports)
    assert {json.loads(m.value())["outcome"] for m in receipts} == {"accepted"}

    destinations = [harness.topics.destination(d) for d in harness.rules.policies.destinations()]
    signals = await asyncio.to_thread(read_back, kafka, destinations, total)
    assert len(signals) == total
    assert all(signed_by_gateway(m, harness) for m in signals)
    assert len({m.key() for m in signals}) == total, "one signal per report, keyed by signal_id"


async def test_records_of_an_aborted_transaction_on_the_embedded_broker(kafka: str, prefix: str) -> None:
    """tansu 0.6 hands out no aborted-transaction list: aborted records read as committed there
    (docs/operations.md). What still holds: control records take offsets but get no decision, every data
    record gets exactly one, and verify asks a decision of no control record."""
    harness = await Harness(kafka, prefix, trust_producer_time=True, partitions=1).setup()
    inbound = harness.topics.inbound(PartnerId("nla"))
    committed = await asyncio.to_thread(produce, kafka, inbound, {"transactional.id": "tx-c"}, 3)
    aborted = await asyncio.to_thread(produce, kafka, inbound, {"transactional.id": "tx-a"}, 3, abort=True)
    async with harness.gateway():
        audit = await harness.wait_for_audit(6)
    offsets = sorted(a["inbound"]["offset"] for a in audit)
    assert offsets == [0, 1, 2, 4, 5, 6], "offsets 3 and 7 are the transactions' control records"
    assert sorted(a["event"]["id"] for a in audit) == sorted(committed + aborted)
    # As gkt audit verify does from Kafka: every inbound offset still there needs a decision, and the
    # control records are none of them.
    verifier = ChainVerifier(KeySet.of(harness.signer))
    for record in audit:
        verifier.feed(record)
    present = await inbound_offsets(kafka, [inbound])
    assert present == {f"{inbound}/0": [0, 1, 2, 4, 5, 6]}
    for chain, found in present.items():
        verifier.missing(chain, found)
    assert verifier.finish().ok


@pytest.mark.docker
async def test_an_aborted_transaction_is_never_decided_on_apache_kafka(apache_kafka: str, prefix: str) -> None:
    harness = await Harness(apache_kafka, prefix, idempotent_producer=True, partitions=1).setup()
    inbound = harness.topics.inbound(PartnerId("nla"))
    aborted = await asyncio.to_thread(produce, apache_kafka, inbound, {"transactional.id": "tx-a"}, 3, abort=True)
    committed = await asyncio.to_thread(produce, apache_kafka, inbound, {"transactional.id": "tx-c"}, 3)
    async with harness.gateway():
        audit = await harness.wait_for_audit(3)
        await asyncio.sleep(2)
        audit = await harness.audit()
    assert sorted(a["event"]["id"] for a in audit) == sorted(committed)
    assert not set(aborted) & {a["event"]["id"] for a in audit}
    assert {a["inbound"]["timestamp_type"] for a in audit} == {"LogAppendTime"}
