"""The helper process of gateway.crypto_ahead: verifies and signs with Ed25519 what it is sent, in order.

Kept small (cryptography and the JWS format of gateway.signing): it is started
once per gateway process as ``python -m gateway.crypto_helper FD``, FD its end
of a socket pair. It answers each request in the order it came:

- ``("key", raw private key, protected header)``: the gateway's signing key,
  sent once over the socket (never on the command line); no answer;
- ``("verify", [(token, payload, raw public key), ...])``: one byte per
  signature, 1 when it verifies;
- ``("sign", [payload, ...])``: the 64-byte Ed25519 signature of each, over
  the JWS signing input with the gateway's protected header.

It ends when the socket closes, which is also what happens when the gateway
process dies. It never writes to stdout or a log: what it is sent is
partners' reports.
"""

import sys
from multiprocessing.connection import Connection
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.signing import signing_input, verify_eddsa_token

Check = tuple[str, bytes, bytes]


def serve(conn: Connection) -> None:
    keys: dict[bytes, Ed25519PublicKey] = {}
    private: Ed25519PrivateKey | None = None
    protected = ""
    while True:
        try:
            request: tuple[Any, ...] = conn.recv()
        except (EOFError, OSError):
            return
        kind = request[0]
        if kind == "key":
            private, protected = Ed25519PrivateKey.from_private_bytes(request[1]), request[2]
            continue
        answer = bytearray()
        if kind == "verify":
            for token, payload, raw in request[1]:
                public = keys.get(raw)
                if public is None:
                    public = keys[raw] = Ed25519PublicKey.from_public_bytes(raw)
                answer.append(1 if verify_eddsa_token(token, payload, public) else 0)
        elif kind == "sign" and private is not None:
            for payload in request[1]:
                answer += private.sign(signing_input(protected, payload))
        try:
            conn.send_bytes(bytes(answer))
        except OSError:
            return


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
