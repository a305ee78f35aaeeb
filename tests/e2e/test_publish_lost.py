"""The connection is lost while a record is being written: ``send_and_await`` (under ``gkt publish`` and the
review desk) says it may or may not have been written, because that is all a client can know.

Through tansu behind a proxy that resets the connection carrying the Produce request, after the broker took
it or before. aiokafka retries on a new connection and loses that one too, until its request timeout (here
2 s; 40 s by default). Each try that reached the broker is a copy of the record (aiokafka's idempotent
producer, which would let Kafka drop them, does not start on tansu): the gateway answers every copy after
the first ``duplicate``, so sending the same record again is safe, as docs/partners.md tells partners.
"""

from collections.abc import Iterator

import pytest

from gateway.kafka.admin import ensure_topics
from gateway.kafka.embedded import EmbeddedBroker, free_port
from gateway.kafka.follower import read_all
from gateway.kafka.roundtrip import MaybeSentError, send_and_await
from gateway.provision.plan import TopicSpec
from tests.e2e.fault_proxy import FaultProxy
from tests.integration.test_roundtrip import never

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[str, FaultProxy]]:
    proxy_port = free_port()
    with EmbeddedBroker(advertised_port=proxy_port, gate_produce=False) as broker:
        proxy = FaultProxy(proxy_port, broker.port).start()
        try:
            yield f"127.0.0.1:{proxy_port}", proxy
        finally:
            proxy.stop()


@pytest.mark.parametrize("delivered", [True, False], ids=["written", "not-written"])
async def test_a_write_whose_answer_is_lost_may_have_been_written(
    proxied: tuple[str, FaultProxy], prefix: str, delivered: bool
) -> None:
    bootstrap, proxy = proxied
    asks, answers = f"{prefix}asks", f"{prefix}answers"
    await ensure_topics(bootstrap, [TopicSpec(asks, 1, {}), TopicSpec(answers, 1, {})])
    proxy.lose_produce(delivered=delivered)
    try:
        with pytest.raises(MaybeSentError) as caught:
            await send_and_await(bootstrap, answers, never, (asks, b"x", None, []), 10, request_timeout_ms=2000)
    finally:
        proxy.restore()
    # aiokafka gives up at its request timeout with the last error it met (a closed connection, or a timeout).
    assert str(caught.value) in (
        f"writing to {asks} failed ({kind})" for kind in ("KafkaConnectionError", "KafkaTimeoutError")
    )
    assert proxy.lost >= 1
    written = [record.value for record in await read_all(bootstrap, asks)]
    # Written once for every try that reached the broker (no idempotent producer on tansu), else never.
    assert written == [b"x"] * len(written)
    assert (len(written) >= 1) is delivered
