"""Hostile records between good ones, through the real broker into ``gkt run``: it stays up and keeps every promise.

Every inbound record gets exactly one audit record (G1), the good reports are
routed, every output stays under its bound, the service keeps following
reference data past a poisoned record, and no planted name or BSN reaches a
receipt, an audit record, a dead letter or a log line (G7).
"""

import asyncio
import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from contracts.jsonio import strict_loads
from gateway.audit.verify import verify
from gateway.demo import samples as s
from gateway.inbound import SIGNATURE_HEADER, InboundRecord
from gateway.keyset import KeySet
from gateway.outputs import MAX_RECORD_BYTES, MAX_SMALL_RECORD_BYTES
from gateway.signing import Signer
from gateway.types import PartnerId
from routing.reference import ReferenceTable
from tests.e2e.gateway_process import GatewayProcess, http_get
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


Record = tuple[bytes, Headers, int | None]


def hostile() -> list[tuple[Record, str]]:
    """The reproductions of the hardening issue, each as a partner's record, with the code it must get."""
    signed = s.encode(s.event(s.nla_report(), time=now()))
    signature = s.sign(signed, "nla-2025-01").decode()
    kid_header = base64.urlsafe_b64encode(escaped({"alg": "EdDSA", "kid": "\ud800"})).rstrip(b"=")
    named = escaped(s.event({**s.nla_report(), NAME: 1, "periode": {"van": "2024-09-01", f"{BSN}L01": 1}}, time=now()))
    crowd = escaped(s.event({**s.nla_report(), **{f"{BSN}{i}": 0 for i in range(12_000)}}, time=now()))
    traced = s.encode({**s.event(s.nla_report(), time=now()), "tracestate": f"a={NAME}," * 40})
    padded = signature + "=="  # base64url is unpadded (RFC 7515)
    # Compact, as orjson writes, with a member repeated: orjson alone would keep the last and read a report.
    repeated = s.encode(s.event({**s.nla_report(), NAME: 1}, time=now()))
    repeated = repeated.replace(f'"{NAME}":1'.encode(), f'"{NAME}":1,"{NAME}":2'.encode(), 1)
    return [
        ((b'{"\\ud800": 1}', [], None), "EVENT_UNREADABLE"),
        ((signed, [(SIGNATURE_HEADER, kid_header + b"..AAAA")], None), "SIGNATURE_INVALID"),
        ((escaped({f"{i:x}": 1 for i in range(25_000)}), [], None), "EVENT_INVALID"),
        ((crowd, [(SIGNATURE_HEADER, s.sign(crowd, "nla-2025-01"))], None), "CONTRACT_VIOLATION"),
        ((named, [(SIGNATURE_HEADER, s.sign(named, "nla-2025-01"))], None), "CONTRACT_VIOLATION"),
        ((signed, [(SIGNATURE_HEADER, signature.encode())], 10**15), "EVENT_UNREADABLE"),
        ((signed, [(SIGNATURE_HEADER, signature.encode())], -(10**15)), "EVENT_UNREADABLE"),
        (
            (signed, [(SIGNATURE_HEADER, signature.encode())], 0),
            "KEY_NOT_VALID",
        ),  # 1970 is datable; the key is not valid then
        ((signed, [(SIGNATURE_HEADER, None)], None), "SIGNATURE_MISSING"),
        ((signed, [(SIGNATURE_HEADER, padded.encode())], None), "SIGNATURE_INVALID"),
        ((traced, [(SIGNATURE_HEADER, s.sign(traced, "nla-2025-01"))], None), "EVENT_INVALID"),
        ((b"[" * 100_000, [(f"{NAME}", b"x"), (SIGNATURE_HEADER, b"\xff\xfe")], None), "EVENT_UNREADABLE"),
        ((repeated, [(SIGNATURE_HEADER, s.sign(repeated, "nla-2025-01"))], None), "EVENT_UNREADABLE"),
    ]


def lower_case_time() -> Record:
    """RFC 3339 allows "t" and "z": a good report all the same."""
    event = s.event(s.nla_report(), time=now())
    event["time"] = event["time"].replace("T", "t").replace("+00:00", "z").replace("Z", "z")
    value = s.encode(event)
    return value, [(SIGNATURE_HEADER, s.sign(value, "nla-2025-01"))], None


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


def size(record: InboundRecord) -> int:
    return len(record.key or b"") + len(record.value or b"") + sum(len(k) + len(v or b"") for k, v in record.headers)


async def test_hostile_records_between_good_ones(kafka: str, prefix: str, tmp_path: Path) -> None:
    harness = await Harness(kafka, prefix).setup()
    topics = harness.topics
    inbound = topics.inbound(PartnerId("nla"))
    # A poisoned reference record first: the follower must skip it and keep following.
    await produce(kafka, topics.reference, [(b"[" * 100_000, [], None)], key=s.UNKNOWN_CLIENT.encode())
    gateway = GatewayProcess(kafka, prefix, tmp_path, GKT_LOG_LEVEL="debug").start()
    try:
        cases = [(good(), "routed"), *hostile(), (lower_case_time(), "routed"), *hostile(), (good(), "routed")]
        await produce(kafka, inbound, [record for record, _ in cases])
        # The client the poisoned record was about becomes known: later reports about it are routed.
        client = {"kvkNummer": s.UNKNOWN_CLIENT, "segment": "go", "horizontaalToezichtLoonheffingen": False}
        await produce(kafka, topics.reference, [(s.encode(client), [], None)], key=s.UNKNOWN_CLIENT.encode())
        deadline = time.monotonic() + 30
        known = len(ReferenceTable.from_jsonl(s.REFERENCE_FILE)) + 1  # the sample clients and this one
        while f"gkt_reference_records {known}.0" not in http_get(gateway.port, "/metrics")[1]:
            assert time.monotonic() < deadline, "the reference update was not followed"
            await asyncio.sleep(0.1)
        cases.append((good(s.UNKNOWN_CLIENT), "routed"))
        await produce(kafka, inbound, [cases[-1][0]])
        audit = await harness.wait_for_audit(len(cases), limit_seconds=90)
        assert gateway.exit_code() is None, "the gateway stopped"
        assert gateway.readyz() == 200
    finally:
        assert gateway.stop() == 0
    assert sorted(a["inbound"]["offset"] for a in audit) == list(range(len(cases)))  # exactly one decision each
    by_offset = {a["inbound"]["offset"]: a for a in audit}
    got = [
        by_offset[o]["outcome"] if by_offset[o]["outcome"] == "routed" else by_offset[o]["reasons"][0]["code"]
        for o in range(len(cases))
    ]
    assert got == [expected for _, expected in cases]
    assert by_offset[len(cases) - 1]["destination"]["topic"].endswith("bd.detectie.go")
    assert verify(audit, KeySet.of(Signer.from_pem_file(gateway.key, "gw-test-1"))).ok

    told: list[InboundRecord] = []
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
    assert sum(line["event"] == "decided" for line in lines) == len(cases)
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
