"""The reference Apache Kafka setup in docker/ has every topic and ACL of spec/wire.md, and no more."""

import re
from pathlib import Path

import pytest
import yaml

from gateway.topics import Topics
from tests.helpers import make_rules

DOCKER = Path(__file__).parents[2] / "docker"
PROVISION = (DOCKER / "kafka" / "provision.sh").read_text()
RULES = make_rules()
TOPICS = Topics()
PARTNERS = RULES.agreements.partners()
DESTINATIONS = RULES.policies.destinations()


def topics_created() -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"^topic (\S+)(.*)$", PROVISION, re.M)}


def acls() -> set[tuple[str, str, str, str]]:
    """(principal, operation, resource kind, name) — prefixed names end in '*'."""
    found = set()
    for line in re.findall(r"^allow .*$", PROVISION, re.M):
        parts = line.split()
        principal, operation = parts[1], parts[2]
        if "--cluster" in parts:
            found.add((principal, operation, "cluster", ""))
            continue
        kind = parts[3].lstrip("-")
        name = parts[4].strip('"').replace("${P}", "")
        if "prefixed" in line:
            name += "*"
        found.add((principal, operation, kind, name))
    return found


def by(principal: str) -> set[tuple[str, str, str]]:
    return {(op, kind, name) for who, op, kind, name in acls() if who == principal}


def test_every_topic_of_the_spec_is_provisioned() -> None:
    expected = {TOPICS.inbound(p) for p in PARTNERS} | {TOPICS.feedback(p) for p in PARTNERS} | set(DESTINATIONS)
    expected |= {TOPICS.quarantine, TOPICS.review, TOPICS.deadletter, TOPICS.audit, TOPICS.reference}
    assert set(topics_created()) == expected


def test_topic_configs() -> None:
    created = topics_created()
    assert "retention.ms=-1" in created[TOPICS.audit]  # the audit log is never deleted
    assert "retention.bytes=-1" in created[TOPICS.audit]
    assert "cleanup.policy=compact" in created[TOPICS.reference]
    assert "retention.ms=-1" in created[TOPICS.review]  # verdicts are replayed as long as the audit log lives
    for partner in PARTNERS:
        assert "message.timestamp.type=LogAppendTime" in created[TOPICS.inbound(partner)]


@pytest.mark.parametrize("partner", PARTNERS)
def test_a_partner_writes_only_its_inbound_topic_and_reads_only_its_feedback(partner: str) -> None:
    assert by(partner) == {
        ("Write", "topic", TOPICS.inbound(partner)),
        ("Read", "topic", TOPICS.feedback(partner)),
        ("Read", "group", f"{partner}-*"),
    }
    assert re.search(rf"^user {partner} ", PROVISION, re.M)


def test_detection_consumers_read_only_the_detection_topics() -> None:
    topics = {name for op, kind, name in by("detectie") if kind == "topic"}
    assert topics == set(DESTINATIONS)
    assert all(op == "Read" for op, _, _ in by("detectie"))


def test_the_gateway_reads_and_writes_what_it_must() -> None:
    gateway = by("gateway")
    assert ("Read", "topic", "gkt.in.*") in gateway
    assert ("Write", "topic", "gkt.feedback.*") in gateway
    for name in DESTINATIONS:
        assert ("Write", "topic", name) in gateway or ("Write", "topic", "bd.detectie.*") in gateway
    for name in (TOPICS.quarantine, TOPICS.deadletter, TOPICS.audit):
        assert ("Write", "topic", name) in gateway
    assert ("Read", "topic", TOPICS.reference) in gateway
    assert ("Read", "topic", TOPICS.audit) in gateway  # chain heads, duplicate memory, the quarantine state
    assert ("Read", "topic", TOPICS.review) in gateway
    assert ("IdempotentWrite", "cluster", "") in gateway
    assert not any(op == "Write" and name.startswith("gkt.in.") for op, _, name in gateway)


def test_only_reviewers_and_the_gateway_touch_the_quarantine() -> None:
    readers = {who for who, op, kind, name in acls() if name == TOPICS.quarantine and op == "Read"}
    assert readers == {"reviewers"}


def test_only_reviewers_give_verdicts() -> None:
    writers = {who for who, op, kind, name in acls() if name == TOPICS.review and op == "Write"}
    assert writers == {"reviewers"}
    assert ("Read", "topic", TOPICS.audit) in by("reviewers")  # the queue comes from the audit log


def test_the_broker_denies_what_no_acl_allows() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    kafka = compose["services"]["kafka"]["environment"]
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "StandardAuthorizer" in kafka["KAFKA_AUTHORIZER_CLASS_NAME"]
    assert "SCRAM-SHA-512" in kafka["KAFKA_SASL_ENABLED_MECHANISMS"].split(",")
    assert kafka["KAFKA_SUPER_USERS"] == "User:admin"  # the only PLAIN login; everyone else uses SCRAM
    assert "admin-secret" not in (DOCKER / "compose.yaml").read_text()  # passwords live in docker/.env
    gateway = compose["services"]["gateway"]["environment"]
    assert gateway["GKT_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert gateway["GKT_IDEMPOTENT_PRODUCER"] == "true"


def test_the_image_runs_as_a_user_with_a_health_check() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^USER gkt$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile


def test_the_gateway_restarts_and_reads_agreements_and_policies_from_the_host() -> None:
    gateway = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]["gateway"]
    assert gateway["restart"] == "unless-stopped"  # it exits non-zero for its supervisor on faults it does not ride out
    mounted = {volume.rsplit(":", 2)[1] for volume in gateway["volumes"] if volume.endswith(":ro")}
    environment = gateway["environment"]
    assert {environment["GKT_AGREEMENTS"], environment["GKT_POLICIES"], environment["GKT_REVIEWERS"]} <= mounted
