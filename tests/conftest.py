"""Fixtures: one embedded Kafka broker per session, a topic prefix per test."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.kafka.embedded import EmbeddedBroker
from gateway.pipeline import Rules
from tests.brokers import APACHE_IMAGE, docker_missing
from tests.helpers import make_rules

# The tests sign with fixed demo keys kept as test data; they match the committed sample agreements and
# reviewers file. Set for this process and every gkt process a test starts (gateway/demo/samples.py).
os.environ.setdefault("GKT_DEMO_KEYS", str(Path(__file__).parent / "fixtures" / "demo-keys"))
# The embedded broker keeps producers' timestamps whatever a topic's message.timestamp.type says, so every
# gateway and gkt command of the tests trusts them (spec/wire.md, broker time); the tests of broker time
# itself turn it off (tests/integration/test_broker_time.py).
os.environ.setdefault("GKT_TRUST_PRODUCER_TIME", "true")


@pytest.fixture(scope="session")
def kafka() -> Iterator[str]:
    """Bootstrap address of the embedded tansu broker, started once for the session."""
    with EmbeddedBroker() as broker:
        yield broker.bootstrap


@pytest.fixture(scope="session")
def apache_kafka() -> Iterator[str]:
    """Apache Kafka in a container (testcontainers), once for the session; skipped without a Docker engine."""
    reason = docker_missing()
    if reason is not None:
        pytest.skip(reason)
    from testcontainers.community.kafka import KafkaContainer

    # The tests' consumers use 2 s sessions (a group join takes half of it); Apache Kafka refuses a session
    # under group.min.session.timeout.ms, 6 s by default, so the container allows 1 s.
    container = KafkaContainer(APACHE_IMAGE).with_kraft().with_env("KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS", "1000")
    with container:
        yield container.get_bootstrap_server()


@pytest.fixture
def prefix() -> str:
    """A topic prefix of this test's own, so tests never see each other's records."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture(scope="session")
def rules() -> Rules:
    return make_rules()
