"""Creates every topic of spec/wire.md with its partitions and configs."""

import contextlib
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from gateway.errors import BrokerError
from gateway.provision.plan import LOG_APPEND_TIME, TIMESTAMP_TYPE, TopicSpec


async def ensure_topics(
    bootstrap: str, specs: list[TopicSpec], replication_factor: int = 1, **client: Any
) -> dict[str, tuple[bool, int]]:
    """Create the topics that do not exist yet; returns, per topic, whether it was created and its partitions.

    An existing topic keeps the partitions it has (Kafka can add some, never
    take any away; tansu cannot add any): the count reported is the real one.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="gkt-admin", **client)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        for spec in missing:
            # Another gateway process may have created it a moment ago.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            spec.name,
                            spec.partitions,
                            replication_factor,
                            topic_configs=spec.configs,
                        )
                    ]
                )
        described = await admin.describe_topics([s.name for s in specs])
        partitions = {str(t["topic"]): len(t["partitions"]) for t in described}
        created = {s.name for s in missing}
        return {s.name: (s.name in created, partitions.get(s.name, s.partitions)) for s in specs}
    except KafkaError as exc:
        raise BrokerError(f"cannot create topics on {bootstrap}: {exc}") from exc
    finally:
        await admin.close()


async def start_refusal(bootstrap: str, decided: list[str], review: str, **client: Any) -> str | None:
    """Why the gateway must not start on these topics, or None: one admin session at start.

    Every topic it decides (``decided``, ``review`` among them) must be dated by the broker, and ``review`` must
    have exactly one partition (spec/wire.md).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="gkt-admin", **client)
    try:
        await admin.start()
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in decided])
        described = await admin.describe_topics([review])
    except KafkaError as exc:
        raise BrokerError(f"cannot read the configuration of {', '.join(decided)} on {bootstrap}: {exc}") from exc
    finally:
        await admin.close()
    types: dict[str, str] = dict.fromkeys(decided, "the topic does not exist")
    for response in responses:
        for error_code, _message, _kind, name, entries, *_ in response.resources:
            if error_code == 0 and name in types:
                types[name] = next((str(entry[1]) for entry in entries if entry[0] == TIMESTAMP_TYPE), "not set")
    partitions = sum(len(t["partitions"]) for t in described if t["topic"] == review and not t.get("error_code"))
    return broker_time_refusal(types) or review_partitions_refusal(review, partitions)


def broker_time_refusal(types: dict[str, str]) -> str | None:
    """Why the gateway must not start on these topics (not every one dated by the broker), or None."""
    wrong = sorted(name for name, kind in types.items() if kind != LOG_APPEND_TIME)
    if not wrong:
        return None
    named = ", ".join(f"{name} ({types[name]})" for name in wrong)
    return (
        f"{TIMESTAMP_TYPE} must be {LOG_APPEND_TIME} on the topics the gateway decides, so that no sender chooses the"
        f" time its record is judged at (spec/wire.md, broker time): {named}; set it with kafka-configs --alter"
        f" --entity-type topics --entity-name TOPIC --add-config {TIMESTAMP_TYPE}={LOG_APPEND_TIME}"
    )


def review_partitions_refusal(topic: str, partitions: int) -> str | None:
    """Why the gateway must not start on a ``gkt.review`` of this many partitions, or None."""
    if partitions <= 1:
        return None
    return (
        f"{topic} has {partitions} partitions; it must have exactly one, so that one process sees every verdict on"
        " an item, in order (spec/wire.md): recreate it with one partition (its verdicts are decided and audited"
        " already; replay reads them from gkt.audit's positions)"
    )
