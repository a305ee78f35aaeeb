#!/usr/bin/env bash
# Writes the admin's client properties (SASL/PLAIN) to $1, from ADMIN_PASSWORD in the environment:
# the password lives in docker/.env, never in a file of the repository.
set -euo pipefail
cat > "$1" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${ADMIN_PASSWORD:?}";
PROPS
