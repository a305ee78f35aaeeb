"""Hostile records between good ones, through the real broker into ``gkt run``: it stays up and keeps every promise.

Every inbound record gets exactly one audit record (G1), the good reports are
routed, every output stays under its bound, the service keeps following
reference data past a poisoned record, and no planted name or BSN reaches a
receipt, an audit record, a dead letter or a log line (G7).
"""

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord

from gateway.audit.verify import verify
from gateway.demo import samples as s
from gateway.inbound import SIGNATURE_HEADER
from gateway.jsonio import strict_loads
from gateway.keyset import KeySet
from gateway.outputs import MAX_RECORD_BYTES, MAX_SMALL_RECORD_BYTES
from gateway.signing import Signer
from gateway.types import PartnerId
from tests.e2e.gateway_process import GatewayProcess
from tests.helpers import now
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka

NAME, BSN = "Jan de Vries", "270000021"  # planted where the sender chooses names; the BSN passes the 11-check
Headers = list[tuple[str, bytes | None]]


def escaped(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def good(client: str = s.KNOWN_CLIENT_MKB) -> tuple[bytes, Headers, int | None]:
    value = s.encode(s.event(s.nla_report(client=client), time=now()))
    return value, [(SIGNATURE_HEADER, s.sign(value, "nla-2025-01"))], None


def hostile() -> list[tuple[bytes, Headers, int | None]]:
    """The reproductions of the hardening issue, each as a partner's record."""
    signed = s.encode(s.event(s.nla_report(), time=now()))
    kid_header = base64.urlsafe_b64encode(escaped({"alg": "EdDSA", "kid": "\ud800"})).rstrip(b"=")
    named = escaped(s.event({**s.nla_report(), NAME: 1, "periode": {"van": "2024-09-01", f"{BSN}L01": 1}}, time=now()))
    crowd = escaped(s.event({**s.nla_report(), **{f"{BSN}{i}": 0 for i in range(15_000)}}, time=now()))
    return [
        (b'{"\\ud800": 1}', [], None),
        (signed, [(SIGNATURE_HEADER, kid_header + b"..AAAA")], None),
        (escaped({f"{i:x}": 1 for i in range(25_000)}), [], None),
        (crowd, [(SIGNATURE_HEADER, s.sign(crowd, "nla-2025-01"))], None),
        (named, [(SIGNATURE_HEADER, s.sign(named, "nla-2025-01"))], None),
        (signed, [(SIGNATURE_HEADER, s.sign(signed, "nla-2025-01"))], 10**15),
        (signed, [(SIGNATURE_HEADER, s.sign(signed, "nla-2025-01"))], 0),
        (signed, [(SIGNATURE_HEADER, None)], None),
        (b"[" * 100_000, [(f"{NAME}", b"x"), (SIGNATURE_HEADER, b"\xff\xfe")], None),
    ]


async def produce(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, Headers, int | None]], key: bytes | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=2_097_152)
    await producer.start()
    try:
        for value, headers, timestamp in records:
            await producer.send_and_wait(topic, value, key=key, partition=0, headers=headers, timestamp_ms=timestamp)
    finally:
        await producer.stop()


def size(record: ConsumerRecord) -> int:
    return len(record.key or b"") + len(record.value or b"") + sum(len(k) + len(v or b"") for k, v in record.headers)


async def test_hostile_records_between_good_ones(kafka: str, prefix: str, tmp_path: Path) -> None:
    harness = await Harness(kafka, prefix).setup()
    topics = harness.topics
    inbound = topics.inbound(PartnerId("nla"))
    # A poisoned reference record first: the follower must skip it and keep following.
    await produce(kafka, topics.reference, [(b"[" * 100_000, [], None)], key=s.UNKNOWN_CLIENT.encode())
    gateway = GatewayProcess(kafka, prefix, tmp_path, GKT_LOG_LEVEL="debug").start()
    try:
        batch = [good(), *hostile(), good(), *hostile(), good()]
        await produce(kafka, inbound, batch)
        # The client the poisoned record was about becomes known: later reports about it are routed.
        client = {"kvkNummer": s.UNKNOWN_CLIENT, "segment": "go", "horizontaalToezichtLoonheffingen": False}
        await produce(kafka, topics.reference, [(s.encode(client), [], None)], key=s.UNKNOWN_CLIENT.encode())
        await asyncio.sleep(1)  # the follower reads the update within its poll
        await produce(kafka, inbound, [good(s.UNKNOWN_CLIENT)])
        total = len(batch) + 1
        audit = await harness.wait_for_audit(total, limit_seconds=90)
        assert gateway.exit_code() is None, "the gateway stopped"
        assert gateway.readyz() == 200
    finally:
        assert gateway.stop() == 0
    assert sorted(a["inbound"]["offset"] for a in audit) == list(range(total))  # exactly one decision each
    by_offset = {a["inbound"]["offset"]: a for a in audit}
    routed = [o for o, a in by_offset.items() if a["outcome"] == "routed"]
    assert routed == [0, len(hostile()) + 1, 2 * len(hostile()) + 2, total - 1]
    assert by_offset[total - 1]["destination"]["topic"].endswith("bd.detectie.go")
    assert verify(audit, KeySet.of(Signer.from_pem_file(gateway.key, "gw-test-1"))).ok

    told: list[ConsumerRecord] = []
    for topic in (topics.feedback(PartnerId("nla")), topics.audit, topics.deadletter):
        records = await harness.records(topic)
        assert all(size(r) < MAX_SMALL_RECORD_BYTES for r in records), topic
        told += records
    for topic in (topics.quarantine, *(topics.destination(d) for d in harness.rules.policies.destinations())):
        assert all(size(r) < MAX_RECORD_BYTES for r in await harness.records(topic)), topic
    written = b"".join((r.value or b"") + b"".join(k.encode() + (v or b"") for k, v in r.headers) for r in told)
    log = gateway.log_path.read_text()
    for planted in (NAME, BSN):
        assert planted.encode() not in written
        assert planted not in log
    lines = gateway.log_lines()  # every line is JSON
    assert any(line["event"] == "reference_record_invalid" for line in lines)
    assert sum(line["event"] == "decided" for line in lines) == total
    for receipt in (strict_loads(r.value) for r in await harness.records(topics.feedback(PartnerId("nla")))):
        assert receipt["outcome"] in ("accepted", "rejected")
        assert receipt["outcome"] != "accepted" or receipt["signal_id"] is not None


async def test_a_tombstone_on_the_audit_log_does_not_stop_the_gateway(harness: Harness) -> None:
    await produce(harness.bootstrap, harness.topics.audit, [(None, [], None)], key=b"gkt.in.nla/9")
    async with harness.gateway() as service:
        await produce(harness.bootstrap, harness.topics.inbound(PartnerId("nla")), [good()])
        assert await harness.decided_by(service, 1) == 1
        assert service.ready()
    written = [r.value for r in await harness.records(harness.topics.audit)]  # partitions in no fixed order
    assert written.count(None) == 1
    assert [strict_loads(v)["outcome"] for v in written if v is not None] == ["routed"]


@pytest.fixture
async def harness(kafka: str, prefix: str) -> Harness:
    return await Harness(kafka, prefix).setup()
