"""``gkt run --workers 2``: two processes in one group, health and metrics for the whole, a dead one
restarted, all stopped together."""

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.demo import samples as s
from gateway.demo.scenario import samples
from tests.e2e.gateway_process import GatewayProcess, http_get
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def decisions_by_worker(port: int) -> dict[str, float]:
    status, body = http_get(port, "/metrics")
    assert status == 200
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        if family.name == "gkt_decisions":
            for sample in family.samples:
                if sample.name == "gkt_decisions_total":
                    worker = sample.labels["worker"]
                    totals[worker] = totals.get(worker, 0) + sample.value
    return totals


async def until(condition, what: str, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while not await asyncio.to_thread(condition):
        assert asyncio.get_running_loop().time() < deadline, f"not in time: {what}"
        await asyncio.sleep(0.2)


async def test_two_workers_share_the_work_and_stop_together(kafka: str, prefix: str, tmp_path: Path) -> None:
    harness = await Harness(kafka, prefix).setup()
    gateway = GatewayProcess(kafka, prefix, tmp_path, GKT_REFERENCE=str(s.REFERENCE_FILE), GKT_LOG_LEVEL="info")
    await asyncio.to_thread(gateway.start, 90, "--workers", "2")
    assert gateway.process is not None
    pids = children(gateway.process.pid)
    assert len(pids) == 2, "one process per worker"
    batch = samples()
    await harness.publish(batch)
    await harness.wait_for_audit(len(batch))
    await until(lambda: sum(decisions_by_worker(gateway.port).values()) == len(batch), "every decision counted")
    assert set(decisions_by_worker(gateway.port)) == {"0", "1"}, "metrics of both, labelled"
    # The supervisor serves the key its workers sign with, loaded once from GKT_SIGNING_KEY.
    status, jwks = http_get(gateway.port, "/.well-known/jwks.json")
    assert status == 200
    signing = json.loads((tmp_path / "gw-test-1.jwk.json").read_text())
    assert [(k["kid"], k["x"]) for k in json.loads(jwks)["keys"]] == [("gw-test-1", signing["x"])]

    os.kill(pids[0], signal.SIGKILL)  # a worker dies: the parent starts another
    await until(lambda: gateway.readyz() != 200 or pids[0] not in children(gateway.process.pid), "noticed")
    await until(lambda: gateway.readyz() == 200 and len(children(gateway.process.pid)) == 2, "restarted")
    assert pids[0] not in children(gateway.process.pid)

    remaining = children(gateway.process.pid)
    assert gateway.stop() == 0
    gone = await asyncio.to_thread(lambda: not any(Path(f"/proc/{pid}").exists() for pid in remaining))
    assert gone, "stopped together"
    lines = gateway.log_lines()
    assert any(line.get("event") == "worker_exited" for line in lines)
    audit = await harness.audit()
    assert len(audit) == len(batch), "exactly one decision each"
