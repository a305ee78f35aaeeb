"""Topics, principals and ACLs for a set of partners and destinations (spec/wire.md), decided in one place.

``gkt topics create`` and the gateway's create-at-start use the topics;
``gkt topics plan`` writes all three for ``docker/kafka/provision.sh``.
"""

from dataclasses import dataclass
from typing import Literal

from gateway.topics import FEEDBACK_PREFIX, INBOUND_PREFIX, Topics
from gateway.types import PartnerId

_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}
_THIRTY_DAYS = {"retention.ms": str(30 * 86_400_000)}
TIMESTAMP_TYPE = "message.timestamp.type"
LOG_APPEND_TIME = "LogAppendTime"
# Every time rule is judged at the record's timestamp: on the topics the gateway decides, the broker's (wire.md).
_BROKER_TIME = {TIMESTAMP_TYPE: LOG_APPEND_TIME}
# A partner's record: an event of at most 256 KiB plus headers and batch overhead (contracts.md, wire.md).
_INBOUND_BYTES = {"max.message.bytes": "300000"}

# The principals besides the partners (spec/wire.md, "Access"): each logs in with SCRAM.
GATEWAY, DETECTION, REVIEWERS, AUDITORS, REFERENCE = "gateway", "detectie", "reviewers", "auditors", "referentie"
ROLES = (GATEWAY, DETECTION, REVIEWERS, AUDITORS, REFERENCE)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    configs: dict[str, str]


@dataclass(frozen=True, slots=True)
class Acl:
    """``principal`` may ``operation`` on the topic, group or cluster ``name`` (a prefix when ``prefixed``)."""

    principal: str
    operation: Literal["Read", "Write", "DescribeConfigs", "IdempotentWrite"]
    resource: Literal["topic", "group", "cluster"]
    name: str = ""
    prefixed: bool = False


def topic_specs(topics: Topics, partners: list[PartnerId], destinations: list[str], partitions: int) -> list[TopicSpec]:
    """Every topic the gateway reads or writes, for these partners and destinations."""
    specs = [TopicSpec(topics.inbound(p), partitions, _BROKER_TIME | _INBOUND_BYTES) for p in partners]
    specs += [TopicSpec(topics.feedback(p), partitions, {}) for p in partners]
    specs += [TopicSpec(topics.destination(d), partitions, {}) for d in destinations]
    specs += [
        TopicSpec(topics.quarantine, partitions, dict(_THIRTY_DAYS)),
        # Verdicts are replayed like inbound records, for as long as the audit log lives.
        # One partition: one process sees every verdict on an item, in order (spec/wire.md, review.md).
        TopicSpec(topics.review, 1, _FOREVER | _BROKER_TIME),
        # Detection teams' feedback (spec/selection.md): decided like verdicts, replayed as long as the log lives.
        TopicSpec(topics.terugkoppeling, partitions, _FOREVER | _BROKER_TIME),
        TopicSpec(topics.deadletter, 1, dict(_THIRTY_DAYS)),
        # The audit log is never deleted: auditors answer questions years later.
        TopicSpec(topics.audit, partitions, dict(_FOREVER)),
        # Checkpoints and cosignatures prove how long each chain was, as long as the log lives (spec/witness.md).
        TopicSpec(topics.checkpoints, partitions, dict(_FOREVER)),
        TopicSpec(topics.witness, partitions, dict(_FOREVER)),
        TopicSpec(topics.reference, partitions, {"cleanup.policy": "compact"}),
    ]
    return specs


def witness_principal(partner: PartnerId) -> str:
    """The principal a partner's witness logs in with: not the one its reports are sent with."""
    return f"{partner}-witness"


def principals(partners: list[PartnerId]) -> list[str]:
    """One SCRAM principal per partner, per partner's witness and per role."""
    return [*partners, *(witness_principal(p) for p in partners), *ROLES]


def acls(topics: Topics, partners: list[PartnerId], destinations: list[str], gateway_group: str) -> list[Acl]:
    """The ACLs of spec/wire.md: each principal may what its role needs, and the broker denies the rest.

    ``gateway_group``: the consumer group of the gateway processes (setting ``group_id``).
    """
    inbound_all, prefix = topics.prefix + INBOUND_PREFIX, topics.prefix
    rules: list[Acl] = []
    for partner in partners:  # write only their own inbound topic, read only their own feedback topic
        rules += [
            Acl(partner, "Write", "topic", topics.inbound(partner)),
            Acl(partner, "Read", "topic", topics.feedback(partner)),
            Acl(partner, "Read", "group", f"{partner}-", prefixed=True),
            # A partner's witness (spec/witness.md), a principal of its own: it reads the log and the
            # checkpoints, and writes its cosignatures. Kafka grants per topic, not per record key, so it
            # can read other chains' records too (digests and codes): docs/witness.md says so.
            Acl(witness_principal(partner), "Read", "topic", topics.audit),
            Acl(witness_principal(partner), "Read", "topic", topics.checkpoints),
            Acl(witness_principal(partner), "Write", "topic", topics.witness),
        ]
    rules += [
        Acl(GATEWAY, "Read", "topic", inbound_all, prefixed=True),
        Acl(GATEWAY, "Read", "topic", topics.review),
        # At start the gateway checks that the topics it decides are dated by the broker (LogAppendTime).
        Acl(GATEWAY, "DescribeConfigs", "topic", inbound_all, prefixed=True),
        Acl(GATEWAY, "DescribeConfigs", "topic", topics.review),
        Acl(GATEWAY, "Read", "topic", topics.terugkoppeling),
        Acl(GATEWAY, "DescribeConfigs", "topic", topics.terugkoppeling),
        Acl(GATEWAY, "Read", "group", gateway_group),
        Acl(GATEWAY, "Write", "topic", prefix + FEEDBACK_PREFIX, prefixed=True),
        *(Acl(GATEWAY, "Write", "topic", topics.destination(d)) for d in destinations),
        Acl(GATEWAY, "Write", "topic", topics.quarantine),
        Acl(GATEWAY, "Write", "topic", topics.deadletter),
        Acl(GATEWAY, "Write", "topic", topics.audit),
        Acl(GATEWAY, "Write", "topic", topics.checkpoints),
        Acl(GATEWAY, "Read", "topic", topics.audit),
        Acl(GATEWAY, "Read", "topic", topics.reference),
        Acl(GATEWAY, "IdempotentWrite", "cluster"),
    ]
    # Detection consumers read only the detection topics; their teams write what became of a signal.
    rules += [Acl(DETECTION, "Read", "topic", topics.destination(d)) for d in destinations]
    rules.append(Acl(DETECTION, "Write", "topic", topics.terugkoppeling))
    rules.append(Acl(DETECTION, "Read", "group", f"{DETECTION}-", prefixed=True))
    # Reviewers read the queue (quarantine, audit log), the held reports and the reference data, and write
    # their verdicts; auditors read the audit log and, for replay, the inbound topics, verdicts and reference.
    rules += [
        Acl(REVIEWERS, "Read", "topic", topics.quarantine),
        Acl(REVIEWERS, "Read", "topic", topics.audit),
        Acl(REVIEWERS, "Read", "topic", inbound_all, prefixed=True),
        Acl(REVIEWERS, "Read", "topic", topics.reference),
        Acl(REVIEWERS, "Write", "topic", topics.review),
        Acl(REVIEWERS, "Read", "group", f"{REVIEWERS}-", prefixed=True),
        Acl(AUDITORS, "Read", "topic", topics.audit),
        Acl(AUDITORS, "Read", "topic", inbound_all, prefixed=True),
        Acl(AUDITORS, "Read", "topic", topics.reference),
        Acl(AUDITORS, "Read", "topic", topics.review),
        Acl(AUDITORS, "Read", "topic", topics.terugkoppeling),
        # The internal audit department witnesses every chain; verify with witnesses reads both topics.
        Acl(AUDITORS, "Read", "topic", topics.checkpoints),
        Acl(AUDITORS, "Read", "topic", topics.witness),
        Acl(AUDITORS, "Write", "topic", topics.witness),
        # The Belastingdienst's reference data: written by its own principal only.
        Acl(REFERENCE, "Write", "topic", topics.reference),
    ]
    return rules
