#!/usr/bin/env bash
# Provisions the reference Apache Kafka cluster: SCRAM principals, topics, and the ACLs of spec/wire.md.
# Runs once, as the kafka-init service of compose.yaml, as the admin principal (SASL/PLAIN).
# tests/unit/test_docker_setup.py checks that every topic and ACL of the spec is here.
set -euo pipefail
BIN=/opt/kafka/bin
ADMIN_PASSWORD="${KAFKA_ADMIN_PASSWORD:?}" /provision/admin-client.sh /tmp/admin.properties
B="--bootstrap-server kafka:9092 --command-config /tmp/admin.properties"
P="${TOPIC_PREFIX:-}"
PARTITIONS="${PARTITIONS:-6}"

user() {  # user NAME PASSWORD
  $BIN/kafka-configs.sh $B --alter --entity-type users --entity-name "$1" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$2]"
}
topic() {  # topic NAME [--config k=v ...]
  $BIN/kafka-topics.sh $B --create --if-not-exists --topic "$P$1" --partitions "$PARTITIONS" --replication-factor 1 "${@:2}"
}
allow() {  # allow PRINCIPAL OPERATION RESOURCE-OPTIONS...
  $BIN/kafka-acls.sh $B --add --allow-principal "User:$1" --operation "$2" "${@:3}"
}

# One principal per partner, one for the gateway, one per consumer role.
user gateway   "${GATEWAY_PASSWORD:?}"
user nla       "${NLA_PASSWORD:?}"
user kvk       "${KVK_PASSWORD:?}"
user detectie  "${DETECTIE_PASSWORD:?}"
user reviewers "${REVIEWERS_PASSWORD:?}"
user auditors  "${AUDITORS_PASSWORD:?}"
user referentie "${REFERENTIE_PASSWORD:?}"

# Topics. Inbound and verdicts: the broker stamps the time (nobody can backdate received_at); the gateway
# refuses to start otherwise.
topic gkt.in.nla --config message.timestamp.type=LogAppendTime --config max.message.bytes=300000
topic gkt.in.kvk --config message.timestamp.type=LogAppendTime --config max.message.bytes=300000
topic gkt.feedback.nla
topic gkt.feedback.kvk
topic bd.detectie.mkb
topic bd.detectie.go
topic bd.ht.kwaliteitsgesprek
topic bd.ht.registratie
topic gkt.quarantine --config retention.ms=2592000000
# Reviewers' signed verdicts: decided and replayed like inbound records, kept as long as the audit log; one
# partition, so one gateway process sees every verdict on an item, in order (the gateway refuses more).
PARTITIONS=1 topic gkt.review --config retention.ms=-1 --config retention.bytes=-1 --config message.timestamp.type=LogAppendTime
topic gkt.deadletter --config retention.ms=2592000000
topic gkt.audit --config retention.ms=-1 --config retention.bytes=-1 --config min.insync.replicas=1
topic bd.ref.opdrachtgevers --config cleanup.policy=compact

# Partners: write only their own inbound topic, read only their own feedback topic.
allow nla Write    --topic "${P}gkt.in.nla"
allow nla Read     --topic "${P}gkt.feedback.nla"
allow nla Read     --group nla- --resource-pattern-type prefixed
allow kvk Write    --topic "${P}gkt.in.kvk"
allow kvk Read     --topic "${P}gkt.feedback.kvk"
allow kvk Read     --group kvk- --resource-pattern-type prefixed

# The gateway: reads every inbound topic and the reference data, writes everything it decides.
allow gateway Read  --topic "${P}gkt.in." --resource-pattern-type prefixed
allow gateway Read  --topic "${P}gkt.review"
# At start the gateway checks that the topics it decides are dated by the broker (LogAppendTime).
allow gateway DescribeConfigs --topic "${P}gkt.in." --resource-pattern-type prefixed
allow gateway DescribeConfigs --topic "${P}gkt.review"
allow gateway Read  --group "${P}gkt-gateway"
allow gateway Write --topic "${P}gkt.feedback." --resource-pattern-type prefixed
allow gateway Write --topic "${P}bd.detectie." --resource-pattern-type prefixed
allow gateway Write --topic "${P}bd.ht.kwaliteitsgesprek"
allow gateway Write --topic "${P}bd.ht.registratie"
allow gateway Write --topic "${P}gkt.quarantine"
allow gateway Write --topic "${P}gkt.deadletter"
allow gateway Write --topic "${P}gkt.audit"
allow gateway Read  --topic "${P}gkt.audit"
allow gateway Read  --topic "${P}bd.ref.opdrachtgevers"
allow gateway IdempotentWrite --cluster

# Detection consumers read only the detection topics.
allow detectie Read --topic "${P}bd.detectie.mkb"
allow detectie Read --topic "${P}bd.detectie.go"
allow detectie Read --topic "${P}bd.ht.kwaliteitsgesprek"
allow detectie Read --topic "${P}bd.ht.registratie"
allow detectie Read --group detectie- --resource-pattern-type prefixed

# Reviewers read the quarantine, the audit log (the queue, gkt review list) and the held reports
# (gkt review show), and write their verdicts; auditors read the audit log and, for replay, the inbound
# topics and the verdicts.
allow reviewers Read --topic "${P}gkt.quarantine"
allow reviewers Read --topic "${P}gkt.audit"
allow reviewers Read --topic "${P}gkt.in." --resource-pattern-type prefixed
allow reviewers Read --topic "${P}bd.ref.opdrachtgevers"
allow reviewers Write --topic "${P}gkt.review"
allow reviewers Read --group reviewers- --resource-pattern-type prefixed
allow auditors Read  --topic "${P}gkt.audit"
allow auditors Read  --topic "${P}gkt.in." --resource-pattern-type prefixed
allow auditors Read  --topic "${P}bd.ref.opdrachtgevers"
allow auditors Read  --topic "${P}gkt.review"

# The Belastingdienst's reference data: written by its own principal only.
allow referentie Write --topic "${P}bd.ref.opdrachtgevers"
echo "provisioned"
