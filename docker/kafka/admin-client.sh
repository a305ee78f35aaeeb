#!/usr/bin/env bash
# Writes the admin's client properties (SASL/PLAIN over TLS, trusting docker/tls's CA) to $1, from ADMIN_PASSWORD in the environment:
# the password lives in docker/.env, never in a file of the repository.
set -euo pipefail
cat > "$1" <<PROPS
security.protocol=SASL_SSL
ssl.truststore.type=PEM
ssl.truststore.location=/etc/kafka/secrets/ca.pem
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${ADMIN_PASSWORD:?}";
PROPS
