"""The broker kinds the integration suite runs on: the embedded tansu everywhere, Apache Kafka where Docker is.

Each behaviour test is written once and runs on both (FastStream's broker-
parametrised suites do the same): the ``broker`` fixture of
tests/integration/conftest.py is parametrised over ``KINDS``. Without a Docker
engine the Apache Kafka runs are skipped, and ``pytest -ra`` prints why.
"""

import gc
import warnings
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Broker:
    bootstrap: str
    idempotent_producer: bool  # on Apache Kafka the gateway runs as in production; tansu refuses it
    # tansu keeps producers' timestamps whatever a topic says, so the gateway trusts them there; Apache Kafka
    # dates records itself on LogAppendTime topics, and the gateway runs as in production (spec/wire.md).
    keeps_producer_time: bool


def docker_missing() -> str | None:
    """Why Apache Kafka cannot run here, or None when a Docker engine answers."""
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


KINDS = ("tansu", "apache")
APACHE_IMAGE = "confluentinc/cp-kafka:7.6.1"
