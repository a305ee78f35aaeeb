"""Health, readiness and logs, over HTTP and on the real broker."""

import asyncio
import urllib.error
import urllib.request

import pytest
from structlog.testing import capture_logs

from gateway.demo.scenario import samples
from gateway.http import HttpServer
from gateway.kafka.embedded import free_port
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


def status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def test_readyz_is_503_until_ready_and_healthz_always_200() -> None:
    ready = [False]
    port = free_port()
    server = HttpServer(lambda: ready[0], port, host="127.0.0.1")
    await server.start()
    try:
        assert await asyncio.to_thread(status, port, "/readyz") == 503
        assert await asyncio.to_thread(status, port, "/healthz") == 200
        ready[0] = True
        assert await asyncio.to_thread(status, port, "/readyz") == 200
    finally:
        await server.stop()


async def test_the_gateway_is_not_ready_before_it_can_decide(harness: Harness) -> None:
    from gateway.kafka.service import GatewayService

    service = GatewayService(harness.settings, harness.rules, harness.signer, harness.bootstrap, harness.client_key)
    assert not service.ready()  # no partitions yet, reference data not read
    async with harness.gateway() as running:
        assert running.ready()


async def test_decision_logs_carry_ids_and_codes_never_personal_data(harness: Harness) -> None:
    batch = samples()
    with capture_logs() as logs:
        async with harness.gateway():
            await harness.publish(batch)
            await harness.wait_for_audit(len(batch))
    decided = [entry for entry in logs if entry["event"] == "decided"]
    assert len(decided) == len(batch)
    for entry in decided:
        assert {"inbound", "event_id", "partner", "stage", "outcome", "reasons"} <= set(entry)
    text = repr(logs)
    for personal in ("123456782", "100000009", "De Vries", "Jansen", "timmerman"):
        assert personal not in text
