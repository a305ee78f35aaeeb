"""The broker probe stops when told, even when its metadata answer and the stop arrive together.

Python 3.11's ``asyncio.wait_for`` returns the inner result when the outer task is cancelled in the
same loop turn as the inner future completes: the cancellation is lost. The probe used it, so a
stop could land in that turn, the probe went on probing, and ``gkt run`` never ended on SIGTERM
(seen in tests/integration/test_kill.py: a gateway still running long after its SIGTERM).
"""

import asyncio

import pytest

from gateway.kafka import probe as probe_module
from gateway.kafka.probe import BrokerProbe


class _Client:
    """fetch_all_metadata answers when the test sets ``answer`` (each call waits on one of its own)."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.answer: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self.calls = 0

    async def fetch_all_metadata(self) -> object:
        self.calls += 1
        self.answer = asyncio.get_running_loop().create_future()
        self.asked.set()
        return await self.answer


async def test_a_stop_in_the_turn_the_broker_answers_still_stops_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe_module, "PROBE_EVERY_SECONDS", 0.01)
    client = _Client()
    probe = BrokerProbe(client, give_up_after_seconds=60)  # type: ignore[arg-type]
    probe.start()
    await asyncio.wait_for(client.asked.wait(), 5)
    client.answer.set_result(object())  # the answer and the stop in one turn of the loop
    stopping = asyncio.create_task(probe.stop())
    done, _ = await asyncio.wait({stopping}, timeout=5)  # not wait_for: on 3.11 it too can lose a cancel
    if not done:
        stopping.cancel()  # a second cancel gets the old probe out of its sleep, for the next test's sake
    assert done == {stopping}, "the probe went on after its stop"
    assert probe.reachable


async def test_a_probe_that_times_out_counts_the_broker_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe_module, "PROBE_EVERY_SECONDS", 0.01)
    monkeypatch.setattr(probe_module, "PROBE_TIMEOUT_SECONDS", 0.05)
    client = _Client()  # never answers
    probe = BrokerProbe(client, give_up_after_seconds=0.0)  # type: ignore[arg-type]
    probe.start()
    for _ in range(200):
        if probe.given_up:
            break
        await asyncio.sleep(0.01)
    await asyncio.wait_for(probe.stop(), 5)
    assert not probe.reachable
    assert probe.given_up
    assert client.calls >= 2  # a timed-out probe is followed by the next one
