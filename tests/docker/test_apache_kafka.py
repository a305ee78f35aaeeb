"""The end-to-end suite on Apache Kafka (testcontainers), wherever a Docker engine exists.

Here there is none: the tests are skipped, and `pytest -ra` prints why.
"""

from collections.abc import Iterator

import pytest

from tests.integration import test_every_outcome, test_restart
from tests.integration.harness import Harness


def _no_docker() -> str | None:
    import gc
    import warnings

    import docker

    # When no engine answers, the docker library leaves its socket unclosed; collect it
    # here, where its ResourceWarning is expected, rather than in some later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env()
            client.ping()
            client.close()
        except Exception as exc:  # any failure to reach an engine means: not here
            return (
                f"no Docker engine on this machine ({type(exc).__name__}); these run on Apache Kafka where one exists"
            )
        finally:
            gc.collect()
    return None


REASON = _no_docker()
pytestmark = [pytest.mark.docker, pytest.mark.skipif(REASON is not None, reason=REASON or "")]


@pytest.fixture(scope="module")
def apache_kafka() -> Iterator[str]:
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer("confluentinc/cp-kafka:7.6.1").with_kraft() as kafka:
        yield kafka.get_bootstrap_server()


@pytest.fixture
async def harness(apache_kafka: str, prefix: str) -> Harness:
    # On Apache Kafka the gateway uses the idempotent producer, as in production.
    return await Harness(apache_kafka, prefix, idempotent_producer=True).setup()


async def test_every_outcome_on_apache_kafka(harness: Harness) -> None:
    await test_every_outcome.test_every_sample_lands_where_the_spec_says(harness)


async def test_hostile_records_on_apache_kafka(harness: Harness) -> None:
    await test_every_outcome.test_hostile_records_in_a_batch_do_not_stop_the_ones_after_them(harness)


async def test_restart_on_apache_kafka(harness: Harness) -> None:
    await test_restart.test_a_restarted_gateway_continues_every_chain(harness)
