"""The reference Apache Kafka setup in docker/: the provisioning plan has every topic and ACL of spec/wire.md
and no more, the broker denies the rest, and every client speaks TLS."""

import re
from pathlib import Path

import pytest
import yaml

from gateway.provision.plan import acls as planned_acls
from gateway.provision.plan import principals, topic_specs
from gateway.provision.script import render
from gateway.topics import Topics
from tests.helpers import make_rules

DOCKER = Path(__file__).parents[2] / "docker"
RULES = make_rules()
TOPICS = Topics()
PARTNERS = RULES.agreements.partners()
DESTINATIONS = RULES.policies.destinations()
# What `gkt topics plan` writes for the sample agreements, and provision.sh runs.
PLAN = render(
    principals(PARTNERS),
    topic_specs(TOPICS, PARTNERS, DESTINATIONS, 6),
    planned_acls(TOPICS, PARTNERS, DESTINATIONS, "gkt-gateway"),
    "the samples",
)


def topics_created() -> dict[str, str]:
    found = re.finditer(r"^topic (\S+) (\d+)(.*)$", PLAN, re.M)
    return {m.group(1): f"{m.group(2)}{m.group(3)}" for m in found}


def acls() -> set[tuple[str, str, str, str]]:
    """(principal, operation, resource kind, name) — prefixed names end in '*'."""
    found = set()
    for line in re.findall(r"^allow .*$", PLAN, re.M):
        parts = line.split()
        principal, operation = parts[1], parts[2]
        if "--cluster" in parts:
            found.add((principal, operation, "cluster", ""))
            continue
        kind, name = parts[3].lstrip("-"), parts[4]
        if "prefixed" in line:
            name += "*"
        found.add((principal, operation, kind, name))
    return found


def by(principal: str) -> set[tuple[str, str, str]]:
    return {(op, kind, name) for who, op, kind, name in acls() if who == principal}


def test_every_topic_of_the_spec_is_provisioned() -> None:
    expected = {TOPICS.inbound(p) for p in PARTNERS} | {TOPICS.feedback(p) for p in PARTNERS} | set(DESTINATIONS)
    expected |= {TOPICS.quarantine, TOPICS.review, TOPICS.deadletter, TOPICS.audit, TOPICS.reference}
    expected |= {TOPICS.terugkoppeling, TOPICS.checkpoints, TOPICS.witness}
    assert set(topics_created()) == expected


def test_topic_configs() -> None:
    created = topics_created()
    assert "retention.ms=-1" in created[TOPICS.audit]  # the audit log is never deleted
    assert "retention.bytes=-1" in created[TOPICS.audit]
    assert "cleanup.policy=compact" in created[TOPICS.reference]
    assert "retention.ms=-1" in created[TOPICS.review]  # verdicts are replayed as long as the audit log lives
    for partner in PARTNERS:
        assert "message.timestamp.type=LogAppendTime" in created[TOPICS.inbound(partner)]
    # Verdicts: dated by the broker, on one partition (spec/wire.md); the gateway may read their configuration.
    assert "message.timestamp.type=LogAppendTime" in created[TOPICS.review]
    assert created[TOPICS.review].startswith("1 ")
    assert ("DescribeConfigs", "topic", TOPICS.review) in by("gateway")
    assert ("DescribeConfigs", "topic", "gkt.in.*") in by("gateway")
    # Feedback: dated by the broker, kept as long as the audit log that decides it (spec/selection.md).
    assert "message.timestamp.type=LogAppendTime" in created[TOPICS.terugkoppeling]
    assert "retention.ms=-1" in created[TOPICS.terugkoppeling]
    assert ("DescribeConfigs", "topic", TOPICS.terugkoppeling) in by("gateway")


@pytest.mark.parametrize("partner", PARTNERS)
def test_a_partner_writes_only_its_inbound_topic_and_reads_only_its_feedback(partner: str) -> None:
    assert by(partner) == {
        ("Write", "topic", TOPICS.inbound(partner)),
        ("Read", "topic", TOPICS.feedback(partner)),
        ("Read", "group", f"{partner}-*"),
    }
    assert re.search(rf"^user {partner} ", PLAN, re.M)


@pytest.mark.parametrize("partner", PARTNERS)
def test_a_partners_witness_reads_the_log_and_checkpoints_and_writes_only_cosignatures(partner: str) -> None:
    assert by(f"{partner}-witness") == {
        ("Read", "topic", TOPICS.audit),
        ("Read", "topic", TOPICS.checkpoints),
        ("Write", "topic", TOPICS.witness),
    }
    assert re.search(rf"^user {partner}-witness ", PLAN, re.M)


def test_only_the_gateway_writes_checkpoints_and_only_witnesses_cosign() -> None:
    writers = {who for who, op, kind, name in acls() if name == TOPICS.checkpoints and op == "Write"}
    cosigners = {who for who, op, kind, name in acls() if name == TOPICS.witness and op == "Write"}
    assert writers == {"gateway"}
    assert cosigners == {"auditors", *(f"{p}-witness" for p in PARTNERS)}
    assert "retention.ms=-1" in topics_created()[TOPICS.checkpoints]
    assert "retention.ms=-1" in topics_created()[TOPICS.witness]


def test_detection_consumers_read_only_the_detection_topics_and_write_only_feedback() -> None:
    read = {name for op, kind, name in by("detectie") if kind == "topic" and op == "Read"}
    assert read == set(DESTINATIONS)
    assert {(op, name) for op, kind, name in by("detectie") if op != "Read"} == {("Write", TOPICS.terugkoppeling)}


def test_only_detection_teams_give_feedback_and_only_the_gateway_and_auditors_read_it() -> None:
    writers = {who for who, op, kind, name in acls() if name == TOPICS.terugkoppeling and op == "Write"}
    readers = {who for who, op, kind, name in acls() if name == TOPICS.terugkoppeling and op == "Read"}
    assert (writers, readers) == ({"detectie"}, {"gateway", "auditors"})


def test_the_gateway_reads_and_writes_what_it_must() -> None:
    gateway = by("gateway")
    assert ("Read", "topic", "gkt.in.*") in gateway
    assert ("Write", "topic", "gkt.feedback.*") in gateway
    for name in DESTINATIONS:
        assert ("Write", "topic", name) in gateway
    for name in (TOPICS.quarantine, TOPICS.deadletter, TOPICS.audit):
        assert ("Write", "topic", name) in gateway
    assert ("Read", "topic", TOPICS.reference) in gateway
    assert ("Read", "topic", TOPICS.audit) in gateway  # chain heads, duplicate memory, the quarantine state
    assert ("Read", "topic", TOPICS.review) in gateway
    assert ("Read", "group", "gkt-gateway") in gateway, "the group it consumes in (setting group_id)"
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
    assert gateway["GKT_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert gateway["GKT_IDEMPOTENT_PRODUCER"] == "true"


def test_every_client_and_the_broker_speak_tls() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    kafka = compose["services"]["kafka"]["environment"]
    advertised = kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert advertised[0] == "SASL_SSL://kafka:9092"
    assert advertised[1].startswith("EXTERNAL://${KAFKA_EXTERNAL_HOST:-localhost}:"), "host tools have a way in"
    protocols = dict(entry.split(":") for entry in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert protocols == {"SASL_SSL": "SASL_SSL", "EXTERNAL": "SASL_SSL", "CONTROLLER": "PLAINTEXT"}
    assert "PLAINTEXT://" not in kafka["KAFKA_LISTENERS"].replace("CONTROLLER://", "")
    assert kafka["KAFKA_INTER_BROKER_LISTENER_NAME"] == "SASL_SSL"
    # The apache/kafka image refuses to start an SSL listener without these, and a SASL one without KAFKA_OPTS.
    for name in (
        "KAFKA_SSL_KEYSTORE_FILENAME",
        "KAFKA_SSL_KEYSTORE_CREDENTIALS",
        "KAFKA_SSL_KEY_CREDENTIALS",
        "KAFKA_OPTS",
    ):
        assert kafka[name], name
    jaas = kafka["KAFKA_OPTS"].split("=", 1)[1].replace("/provision/", "")
    assert "ScramLoginModule" in (DOCKER / "kafka" / jaas).read_text()
    script = (DOCKER / "tls" / "make-certs.sh").read_text()
    for name in (kafka["KAFKA_SSL_KEYSTORE_FILENAME"], kafka["KAFKA_SSL_KEYSTORE_CREDENTIALS"], "ca.pem"):
        assert f'"$OUT/{name}"' in script, name
    for client in ("gateway", "detectie-consumer"):
        service = compose["services"][client]
        assert service["environment"]["GKT_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert service["environment"]["GKT_SSL_CAFILE"] == "/run/secrets/kafka_ca"
        assert "kafka_ca" in service["secrets"]
    assert "security.protocol=SASL_SSL" in (DOCKER / "kafka" / "admin-client.sh").read_text()


def test_the_certificate_script_makes_a_broker_certificate_the_ca_vouches_for(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.serialization import pkcs12

    if shutil.which("openssl") is None:
        pytest.skip("no openssl on this machine: the script needs it")
    env = {**os.environ, "TLS_KEYSTORE_PASSWORD": "test-only-password"}
    subprocess.run(
        [str(DOCKER / "tls" / "make-certs.sh"), str(tmp_path), "kafka"], env=env, check=True, capture_output=True
    )
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    key, broker, chain = pkcs12.load_key_and_certificates((tmp_path / "broker.p12").read_bytes(), b"test-only-password")
    assert key is not None
    assert broker is not None
    assert (tmp_path / "broker_creds").read_text() == "test-only-password"
    ca.public_key().verify(  # type: ignore[union-attr,call-arg]
        broker.signature, broker.tbs_certificate_bytes, padding.PKCS1v15(), broker.signature_hash_algorithm
    )
    names = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    )
    assert "kafka" in names, "the advertised host name, which clients verify"
    assert [c.subject for c in chain] == [ca.subject]
    assert oct((tmp_path / "ca.key").stat().st_mode & 0o777) == "0o600", "the CA key is for nobody else"


def test_the_image_runs_as_a_user_with_a_health_check() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^USER gkt$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile


def test_the_gateway_restarts_and_reads_agreements_and_policies_from_the_host() -> None:
    gateway = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]["gateway"]
    assert gateway["restart"] == "unless-stopped"  # it exits non-zero for its supervisor on faults it does not ride out
    mounted = {volume["target"]: volume for volume in gateway["volumes"]}
    environment = gateway["environment"]
    for setting in ("GKT_AGREEMENTS", "GKT_POLICIES", "GKT_REVIEWERS"):
        volume = mounted[environment[setting]]
        assert volume["read_only"] is True
        assert volume["bind"] == {"create_host_path": False}, "a folder that is not there stops compose"
        assert ":?" in volume["source"], "no default: never the image's samples by accident"
