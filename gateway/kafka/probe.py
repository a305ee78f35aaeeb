"""Asks Kafka for its metadata every few seconds: is the broker there at all?

aiokafka retries quietly through an outage: ``getmany`` just returns nothing,
so an idle gateway cannot tell a quiet partner from a lost broker. The probe
can, and ``/readyz`` says so. An outage longer than the limit makes the
service exit non-zero, for its supervisor to restart it (docs/operations.md);
a shorter one is ridden out.
"""

import asyncio
import contextlib
import time

import structlog
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

from gateway.metrics import BROKER_REACHABLE

log = structlog.get_logger("gkt.probe")

PROBE_EVERY_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 5.0  # a black-holed connection answers nothing: do not wait for aiokafka's 40 s


class BrokerProbe:
    def __init__(self, client: AIOKafkaClient, give_up_after_seconds: float) -> None:
        self._client = client
        self._limit = give_up_after_seconds
        self._unreachable_since: float | None = None
        self._task: asyncio.Task[None] | None = None
        self.given_up = False

    @property
    def reachable(self) -> bool:
        return self._unreachable_since is None

    def start(self) -> None:
        BROKER_REACHABLE.set(1)
        self._task = asyncio.create_task(self._run(), name="broker-probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(PROBE_EVERY_SECONDS)
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the answer when the
                # stop's cancellation lands in the turn the answer arrives, and the probe then ran on
                # for ever, so `gkt run` never ended on SIGTERM (tests/unit/test_probe.py).
                async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                    await self._client.fetch_all_metadata()
            except (KafkaError, TimeoutError, OSError) as exc:
                self._failed(type(exc).__name__)
            else:
                self._answered()

    def _failed(self, error: str) -> None:
        now = time.monotonic()
        if self._unreachable_since is None:
            self._unreachable_since = now
            BROKER_REACHABLE.set(0)
            log.warning(
                "broker_unreachable",
                error=error,
                plan=f"not ready; riding it out for up to {self._limit:g} s, then exiting for a restart",
            )
        elif now - self._unreachable_since > self._limit and not self.given_up:
            self.given_up = True
            log.error("broker_outage_too_long", seconds=round(now - self._unreachable_since, 1))

    def _answered(self) -> None:
        if self._unreachable_since is not None:
            log.warning("broker_reachable_again", seconds=round(time.monotonic() - self._unreachable_since, 1))
        self._unreachable_since = None
        BROKER_REACHABLE.set(1)
