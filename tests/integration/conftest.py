"""Integration tests run the gateway on a real Kafka-protocol broker: tansu, and Apache Kafka where Docker is."""

import pytest

from tests.brokers import KINDS, Broker
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


@pytest.fixture(params=KINDS)
def broker(request: pytest.FixtureRequest) -> Broker:
    """Each test that takes the harness runs once per broker kind (tests/brokers.py)."""
    if request.param == "apache":
        request.applymarker(pytest.mark.docker)
        return Broker(request.getfixturevalue("apache_kafka"), idempotent_producer=True, keeps_producer_time=False)
    return Broker(request.getfixturevalue("kafka"), idempotent_producer=False, keeps_producer_time=True)


@pytest.fixture
async def harness(broker: Broker, prefix: str) -> Harness:
    return await Harness(
        broker.bootstrap,
        prefix,
        idempotent_producer=broker.idempotent_producer,
        trust_producer_time=broker.keeps_producer_time,
    ).setup()
