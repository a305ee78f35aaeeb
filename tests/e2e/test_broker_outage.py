"""Kafka goes away for 30 seconds, refusing or black-holing connections: the gateway says so and loses nothing.

During the outage ``/readyz`` is 503 and the log says what the gateway does;
aiokafka's reconnect chatter is rate-limited. Afterwards (after a restart, had
the gateway exited non-zero for its supervisor) every inbound record has
exactly one decision and the chains verify.
"""

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from gateway.audit.verify import verify
from gateway.kafka.embedded import EmbeddedBroker, free_port
from gateway.keyset import KeySet
from gateway.signing import Signer
from gateway.types import PartnerId
from tests.e2e.fault_proxy import FaultProxy
from tests.e2e.gateway_process import GatewayProcess
from tests.e2e.test_hostile_run import good, produce
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka
OUTAGE_SECONDS = 30


@pytest.mark.timeout(300)
@pytest.mark.parametrize("fault", ["refuse", "blackhole"])
async def test_a_30_second_broker_outage(fault: str, tmp_path: Path) -> None:
    proxy_port = free_port()
    with EmbeddedBroker(advertised_port=proxy_port, gate_produce=False) as broker:
        proxy = FaultProxy(proxy_port, broker.port).start()
        try:
            bootstrap = f"127.0.0.1:{proxy_port}"
            harness = await Harness(bootstrap, f"t{uuid.uuid4().hex[:10]}.").setup()
            inbound = harness.topics.inbound(PartnerId("nla"))
            gateway = await asyncio.to_thread(GatewayProcess(bootstrap, harness.settings.topic_prefix, tmp_path).start)
            await produce(bootstrap, inbound, [good() for _ in range(10)])
            await harness.wait_for_audit(10)

            getattr(proxy, fault)()
            cut_at, not_ready = time.monotonic(), False
            while time.monotonic() - cut_at < OUTAGE_SECONDS:
                not_ready = not_ready or await asyncio.to_thread(gateway.readyz) == 503
                await asyncio.sleep(0.5)
            proxy.restore()
            exited = gateway.exit_code()
            if exited is not None:  # it gave up: what its supervisor would see, and what it does next
                assert exited != 0
                await asyncio.to_thread(gateway.start, 120)

            await produce(bootstrap, inbound, [good() for _ in range(10)])
            audit = await harness.wait_for_audit(20, limit_seconds=120)
            deadline = time.monotonic() + 60
            while await asyncio.to_thread(gateway.readyz) != 200:
                assert time.monotonic() < deadline, "not ready again after the outage"
                await asyncio.sleep(0.5)
            assert await asyncio.to_thread(gateway.stop) == 0
        finally:
            proxy.stop()

    assert not_ready, "/readyz stayed 200 while Kafka was gone"
    assert sorted(a["inbound"]["offset"] for a in audit) == list(range(20))  # none lost, none doubled
    assert [a["outcome"] for a in audit] == ["routed"] * 20
    assert verify(audit, KeySet.of(Signer.from_pem_file(gateway.key, "gw-test-1"))).ok
    lines = gateway.log_lines()  # every line JSON, aiokafka's too
    events = [line["event"] for line in lines]
    assert "broker_unreachable" in events
    assert "broker_reachable_again" in events or "exiting" in events
    library = [line for line in lines if str(line.get("logger", "")).startswith("aiokafka")]
    assert len(library) < 4 * OUTAGE_SECONDS, f"{len(library)} aiokafka lines"  # was ~110 a second
