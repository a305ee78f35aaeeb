"""Integration tests run the gateway on the embedded broker (real Kafka protocol)."""

import pytest

from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


@pytest.fixture
async def harness(kafka: str, prefix: str) -> Harness:
    return await Harness(kafka, prefix).setup()
