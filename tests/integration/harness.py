"""A gateway on the embedded broker with topics of the test's own."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from contracts.jsonio import strict_loads
from gateway.demo.run import demo_settings, prepare, publish_samples
from gateway.demo.scenario import Sample
from gateway.inbound import InboundRecord, Position
from gateway.kafka.follower import read_all
from gateway.kafka.runner import running_gateway
from gateway.kafka.service import GatewayService
from gateway.rules_loader import load_rules
from gateway.selection.key import ClientKey
from gateway.signing import Signer


class Harness:
    def __init__(self, bootstrap: str, prefix: str, **settings: Any) -> None:
        self.bootstrap = bootstrap
        self.settings = demo_settings(topic_prefix=prefix, group_id=f"{prefix}gateway", **settings)
        self.rules = load_rules(self.settings)
        self.topics = self.rules.topics
        self.signer = Signer.generate("gw-test-1")
        self.client_key = ClientKey.generate()  # one for every gateway of the test: one client memory

    async def setup(self) -> "Harness":
        await prepare(self.bootstrap, self.rules, self.settings.partitions)
        return self

    @contextlib.asynccontextmanager
    async def gateway(self) -> AsyncIterator[GatewayService]:
        async with running_gateway(self.settings, self.rules, self.signer, self.bootstrap, self.client_key) as service:
            yield service

    async def publish(self, samples: list[Sample]) -> list[Position]:
        return await publish_samples(self.bootstrap, self.rules, samples)

    async def records(self, topic: str) -> list[InboundRecord]:
        return await read_all(self.bootstrap, topic)

    async def audit(self) -> list[dict[str, Any]]:
        return [strict_loads(r.value) for r in await self.records(self.topics.audit)]

    async def decided_by(self, service: GatewayService, count: int, polls: int = 1500) -> int:
        """What ``service`` counted, once it counted ``count``: it counts after its commit, so
        later than the audit records become visible."""
        for _ in range(polls):  # 30 s at most
            if service.decided >= count:
                break
            await asyncio.sleep(0.02)
        return service.decided

    async def wait_for_audit(self, count: int, limit_seconds: float = 60.0) -> list[dict[str, Any]]:
        """Wait until the audit log holds at least ``count`` records."""
        deadline = asyncio.get_running_loop().time() + limit_seconds
        while True:
            audit = await self.audit()
            if len(audit) >= count:
                return audit
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"only {len(audit)} of {count} decisions in the audit log")
            await asyncio.sleep(0.1)
