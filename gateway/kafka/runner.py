"""Runs the gateway service as a task: ready when it can decide, always stopped on exit."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaProducer

from gateway.errors import BrokerError
from gateway.kafka.service import GatewayService
from gateway.pipeline import Rules
from gateway.selection.key import ClientKey
from gateway.settings import Settings
from gateway.signing import Signer


@contextlib.asynccontextmanager
async def running_gateway(
    settings: Settings,
    rules: Rules,
    signer: Signer,
    bootstrap: str,
    client_key: ClientKey,
    ready_timeout: float = 60.0,
) -> AsyncIterator[GatewayService]:
    """Start the service, wait until it is ready (partitions assigned), stop it on exit."""
    service = GatewayService(settings, rules, signer, bootstrap, client_key)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop), name="gateway")
    try:
        deadline = asyncio.get_running_loop().time() + ready_timeout
        while not service.ready():
            if task.done():
                task.result()
                raise BrokerError("the gateway stopped before it was ready")
            if asyncio.get_running_loop().time() > deadline:
                raise BrokerError("the gateway did not become ready in time")
            await asyncio.sleep(0.05)
        yield service
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 30)
        except TimeoutError:
            task.cancel()


def new_partner_producer(bootstrap: str, **client: Any) -> AIOKafkaProducer:
    """A producer as a partner uses one; ``client`` carries the security options (gateway.kafka.security)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="gkt-partner",
        acks="all",
        linger_ms=2,
        max_request_size=2_097_152,
        **client,
    )
