"""The detection consumers' helper, on the real broker: verified signals, each signal_id once."""

import asyncio

import pytest

from gateway.consumer import SignalSubscriber
from gateway.demo.scenario import samples
from gateway.kafka.runner import new_partner_producer
from gateway.keyset import KeySet
from gateway.reasons import Outcome
from gateway.signing import Signer
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


async def test_each_signal_once_and_no_forgery(harness: Harness) -> None:
    batch = samples()
    async with harness.gateway():
        await harness.publish(batch)
        await harness.wait_for_audit(len(batch))
    topics = [harness.topics.destination(d) for d in harness.rules.policies.destinations()]
    mkb = await harness.records(topics[0])
    original = mkb[0]
    producer = new_partner_producer(harness.bootstrap)
    await producer.start()
    # The gateway wrote a signal twice (a crash before its commit) ...
    await producer.send_and_wait(topics[0], original.value, key=original.key, headers=list(original.headers))
    # ... and someone without the gateway's key tries to inject one.
    forged = original.value.replace(b'"oordeel":"zwaar_vermoeden"', b'"oordeel":"vermoeden"')
    forger = Signer.generate(harness.signer.kid)
    await producer.send_and_wait(topics[0], forged, key=b"x", headers=[("gkt-signature", forger.sign(forged).encode())])
    await producer.stop()

    received = []
    subscriber = SignalSubscriber(
        harness.bootstrap,
        topics,
        f"{harness.settings.topic_prefix}consumer",
        KeySet.of(harness.signer),
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )
    routed = [s for s in batch if s.outcome is Outcome.ROUTED]
    async with subscriber as signals:

        async def collect() -> None:
            async for got in signals.batches(timeout_ms=200):
                received.extend(got)
                await signals.commit()
                if len(received) >= len(routed) and subscriber.rejected and subscriber.repeated:
                    return

        await asyncio.wait_for(collect(), 60)
    assert len(received) == len(routed) == 5
    assert len({s.signal_id for s in received}) == 5
    assert subscriber.repeated == 1
    assert subscriber.rejected == 1
    assert {s.data.melding.contractversie for s in received} == {"1.0", "1.1", "2.0"}
