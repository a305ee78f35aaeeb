#!/usr/bin/env bash
# Provisions the reference Apache Kafka cluster: SCRAM principals, topics, and the ACLs of spec/wire.md.
# Runs once, as the kafka-init service of compose.yaml, as the admin principal (SASL/PLAIN). What to
# provision is not written here: `gkt topics plan` (the provision-plan service) derives it from the
# agreements and policies folders into /plan/plan.sh, so onboarding a partner is its agreement file
# and its password in docker/.env (<PARTNER>_PASSWORD). tests/unit/test_docker_setup.py checks the plan.
set -euo pipefail
BIN="${KAFKA_BIN:-/opt/kafka/bin}"
PLAN="${PLAN:-/plan/plan.sh}"
BOOTSTRAP="${BOOTSTRAP:-kafka:9092}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-1}"
PROPERTIES="$(mktemp)"
ADMIN_PASSWORD="${KAFKA_ADMIN_PASSWORD:?}" "$(dirname "$0")/admin-client.sh" "$PROPERTIES"
B=(--bootstrap-server "$BOOTSTRAP" --command-config "$PROPERTIES")

user() {  # user NAME PASSWORD
  "$BIN/kafka-configs.sh" "${B[@]}" --alter --entity-type users --entity-name "$1" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$2]"
}
topic() {  # topic NAME PARTITIONS [--config k=v ...]
  "$BIN/kafka-topics.sh" "${B[@]}" --create --if-not-exists --topic "$1" --partitions "$2" \
    --replication-factor "$REPLICATION_FACTOR" "${@:3}"
}
allow() {  # allow PRINCIPAL OPERATION RESOURCE-OPTIONS...
  "$BIN/kafka-acls.sh" "${B[@]}" --add --allow-principal "User:$1" --operation "$2" "${@:3}"
}

[[ -s "$PLAN" ]] || { echo "provision: $PLAN is missing or empty (the provision-plan service writes it)" >&2; exit 1; }
# shellcheck source=/dev/null
. "$PLAN"
echo "provisioned: $(grep -c '^user ' "$PLAN") principals, $(grep -c '^topic ' "$PLAN") topics, $(grep -c '^allow ' "$PLAN") ACLs"
