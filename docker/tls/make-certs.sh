#!/usr/bin/env bash
# Makes the TLS material of the reference setup (docs/operations.md, "TLS"):
#   docker/secrets/tls/ca.pem            the CA certificate: give it to every client (GKT_SSL_CAFILE)
#   docker/secrets/tls/ca.key            the CA's private key: keep it offline, it signs broker certificates
#   docker/secrets/tls/broker.p12        the broker's key and certificate (SAN: kafka, localhost), PKCS#12
#   docker/secrets/tls/broker_creds      the PKCS#12 password, as the apache/kafka image reads it
# Usage: TLS_KEYSTORE_PASSWORD=... docker/tls/make-certs.sh [OUT_DIR] [BROKER_HOSTNAME ...]
# In production use your organisation's CA (PKIoverheid or internal) instead of this self-made one;
# the file names stay the same.
set -euo pipefail
OUT="${1:-$(dirname "$0")/../secrets/tls}"
shift || true
HOSTS=("${@:-kafka}")
PASSWORD="${TLS_KEYSTORE_PASSWORD:?set TLS_KEYSTORE_PASSWORD (docker/.env)}"
DAYS="${TLS_DAYS:-825}"
mkdir -p "$OUT"
umask 077
SAN="DNS:localhost"
for host in "${HOSTS[@]}"; do SAN="$SAN,DNS:$host"; done

if [[ ! -f "$OUT/ca.key" ]]; then
  openssl req -x509 -new -newkey rsa:3072 -nodes -sha256 -days 3650 \
    -keyout "$OUT/ca.key" -out "$OUT/ca.pem" -subj "/O=GKT gateway/CN=GKT Kafka CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
fi
openssl req -new -newkey rsa:3072 -nodes -sha256 -keyout "$OUT/broker.key" -out "$OUT/broker.csr" \
  -subj "/O=GKT gateway/CN=${HOSTS[0]}"
openssl x509 -req -in "$OUT/broker.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" -CAcreateserial \
  -out "$OUT/broker.pem" -days "$DAYS" -sha256 \
  -extfile <(printf "subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n" "$SAN")
openssl pkcs12 -export -in "$OUT/broker.pem" -inkey "$OUT/broker.key" -certfile "$OUT/ca.pem" \
  -name kafka -out "$OUT/broker.p12" -passout "pass:$PASSWORD"
printf '%s' "$PASSWORD" > "$OUT/broker_creds"
rm -f "$OUT/broker.csr" "$OUT/broker.key"
chmod 644 "$OUT/ca.pem" "$OUT/broker.pem"  # public
chmod 644 "$OUT/broker.p12" "$OUT/broker_creds"  # the image runs as uid 1000; use a secret store in production
echo "wrote $OUT/ca.pem (give to clients), $OUT/broker.p12 and $OUT/broker_creds (the broker's); keep $OUT/ca.key offline"
