"""G1 under SIGKILL: gateway processes killed at random moments lose no decision and write none twice."""

import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.jsonio import strict_loads
from gateway.audit.verify import verify
from gateway.demo import samples as s
from gateway.demo.run import publish_samples
from gateway.demo.scenario import Sample
from gateway.inbound import Position
from gateway.kafka.embedded import free_port
from gateway.keyset import KeySet
from gateway.reasons import Outcome
from gateway.signing import Signer, verify_detached
from gateway.types import PartnerId
from tests.e2e.gateway_process import http_get
from tests.helpers import client_key_file
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka

GKT = Path(sys.executable).parent / "gkt"
REPORTS = 4000


def reports(count: int) -> list[Sample]:
    """Mostly good reports, some bad, some retries (duplicates), keyed over many clients; each with its true outcome."""
    now = datetime.now(UTC)
    result: list[Sample] = []
    for i in range(count):
        if i % 50 == 7 and result:
            # A retry: a duplicate of an authenticated report, never a second signal. An unauthenticated
            # one takes no part in duplicate detection (spec/wire.md): rejected again.
            retried = result[-5]
            unsigned = dict(retried.headers)["gkt-signature"] == b"garbage"
            result.append(replace(retried, outcome=Outcome.REJECTED if unsigned else Outcome.DUPLICATE))
            continue
        weak = i % 10 == 3
        report = s.nla_report(oordeel="vermoeden") if weak else s.nla_report()
        value = s.encode(s.event(report, time=now, event_id=f"kill-{uuid.uuid4()}"))
        garbage = i % 25 == 11
        signature = b"garbage" if garbage else s.sign(value, "nla-2025-01")
        outcome = Outcome.REJECTED if garbage or weak else Outcome.ROUTED
        result.append(
            Sample("r", PartnerId("nla"), value, (("gkt-signature", signature),), outcome, key=str(i % 97).encode())
        )
    return result


def start(harness: Harness, key: Path, http_port: int = 0) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GKT_SIGNING_KEY": str(key),
        "GKT_SIGNING_KID": "gw-kill-1",
        "GKT_CLIENT_KEY_FILE": client_key_file(key.parent),
        "GKT_LOG_LEVEL": "warning",
        "GKT_SESSION_TIMEOUT_MS": "2000",
        "GKT_HEARTBEAT_INTERVAL_MS": "300",
        "GKT_BATCH_SIZE": "100",
        "GKT_GROUP_ID": harness.settings.group_id,
        "GKT_HTTP_PORT": str(http_port),
        "GKT_REFERENCE": str(s.REFERENCE_FILE),
        # Whatever the machine's cores: the kills cover a gateway with its crypto helper (batches of 100
        # go through it), and the helper must end with the gateway it served.
        "GKT_CRYPTO_HELPER": "true",
    }
    return subprocess.Popen(
        [
            str(GKT),
            "run",
            "--bootstrap",
            harness.bootstrap,
            "--topic-prefix",
            harness.settings.topic_prefix,
            "--allow-test-oins",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill(process: subprocess.Popen[bytes]) -> int:
    """SIGKILL the gateway, and see its crypto helper end with it (it reads the end of its socket).

    Returns how many helpers it had."""
    helpers = children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in helpers):
        assert time.monotonic() < deadline, "a crypto helper outlived its gateway"
        time.sleep(0.05)
    return len(helpers)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid):
            found.append(int(entry.name))
    return found


async def audit_count(harness: Harness) -> int:
    return len(await harness.records(harness.topics.audit))


async def audit_count_above(harness: Harness, count: int) -> bool:
    return await audit_count(harness) > count


def ready(port: int) -> bool:
    return http_get(port, "/readyz")[0] == 200


async def until(condition: Callable[[], bool], what: str, limit_seconds: float = 60) -> None:
    """Poll with a deadline instead of sleeping a fixed time."""
    deadline = asyncio.get_running_loop().time() + limit_seconds
    while not await asyncio.to_thread(condition):
        assert asyncio.get_running_loop().time() < deadline, f"not in time: {what}"
        await asyncio.sleep(0.1)


async def until_async(condition: Callable[[], Awaitable[bool]], what: str, limit_seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + limit_seconds
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"not in time: {what}"
        await asyncio.sleep(0.05)


async def assert_exactly_once(harness: Harness, key: Signer, batch: list[Sample], positions: list[Position]) -> None:
    audit = [strict_loads(r.value) for r in await harness.records(harness.topics.audit) if r.value is not None]
    expected = dict(zip(positions, batch, strict=True))
    assert all(a["outcome"] == expected[Position.of(a["inbound"])].outcome.value for a in audit), (
        "each its true outcome"
    )
    decided = Counter((a["inbound"]["partition"], a["inbound"]["offset"]) for a in audit)
    assert len(decided) == len(batch), "every inbound record has a decision"
    assert max(decided.values()) == 1, "no inbound record has two decisions"
    report = verify(audit, KeySet.of(key))
    assert report.ok, report.problems[:3]
    routed = {a["destination"]["signal_id"] for a in audit if a["outcome"] == "routed"}
    signals = Counter(
        strict_loads(r.value)["id"] for r in await harness.records(harness.topics.destination("bd.detectie.mkb"))
    )
    assert set(signals) == routed, "every routed report has its signal, and no other signal exists"
    unique_ids = {strict_loads(x.value or b"{}").get("id") for x in batch}
    duplicates = sum(1 for a in audit if a["outcome"] == "duplicate")
    assert duplicates == len(batch) - len(unique_ids), "every retry is a duplicate, not a second signal"
    receipts = await harness.records(harness.topics.feedback(PartnerId("nla")))
    receipted = {Position.of(strict_loads(r.value)["inbound"]) for r in receipts if r.value is not None}
    assert receipted == set(positions), "every inbound record has at least one receipt"
    signed = [*receipts, *await harness.records(harness.topics.destination("bd.detectie.mkb"))]
    for record in signed:  # made by the crypto helper, or by the gateway when a batch was small
        (token,) = record.headers_named("gkt-signature")
        assert token is not None
        assert verify_detached(token.decode(), record.value or b"", key.key, "EdDSA"), "the gateway's key signed it"


async def test_sigkill_at_random_moments_loses_and_repeats_nothing(kafka: str, prefix: str, tmp_path: Path) -> None:
    harness = await Harness(kafka, prefix).setup()
    key = Signer.generate("gw-kill-1")
    (tmp_path / "gw.pem").write_bytes(key.private_pem())
    batch = reports(REPORTS)
    positions = await publish_samples(harness.bootstrap, harness.rules, batch)
    rng = random.Random(20251)
    progress, helpers = [0], 0
    while len(progress) <= 4:
        process = start(harness, tmp_path / "gw.pem")
        # Kill mid-work: once this run has decided something, at a random moment after.
        while await audit_count(harness) == progress[-1]:
            assert process.poll() is None
            await asyncio.sleep(0.02)
        await asyncio.sleep(rng.uniform(0.0, 0.4))
        helpers += kill(process)
        progress.append(await audit_count(harness))
    assert all(a < b < len(batch) for a, b in itertools.pairwise(progress)), progress
    assert helpers > 0, "the runs killed were verifying and signing in their crypto helpers"
    process = start(harness, tmp_path / "gw.pem")  # the last run finishes the work
    for _ in range(600):
        if await audit_count(harness) >= len(batch):
            break
        await asyncio.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    await assert_exactly_once(harness, key, batch, positions)


async def test_two_processes_one_killed_lose_and_repeat_nothing(kafka: str, prefix: str, tmp_path: Path) -> None:
    harness = await Harness(kafka, prefix).setup()
    key = Signer.generate("gw-kill-1")
    (tmp_path / "gw.pem").write_bytes(key.private_pem())
    batch = reports(REPORTS)
    ports = free_port(), free_port()
    first, second = (start(harness, tmp_path / "gw.pem", port) for port in ports)
    try:
        await until(lambda: all(ready(port) for port in ports), "both joined, partitions spread over the two")
        positions = await publish_samples(harness.bootstrap, harness.rules, batch)
        count = await audit_count(harness)
        await until_async(lambda: audit_count_above(harness, count), "the first decisions are written")
        kill(first)  # mid-work: the survivor takes over its partitions and continues their chains
        for _ in range(600):
            if await audit_count(harness) >= len(batch):
                break
            await asyncio.sleep(0.2)
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    await assert_exactly_once(harness, key, batch, positions)
