"""The helper process of gateway.verify_ahead: verifies Ed25519 signatures it is sent, in order.

Kept small (cryptography and the JWS check of gateway.signing only): it is
started once per gateway process (``python -m gateway.verify_helper FD``, FD its end of a
socket pair). It reads chunks of
``(token, payload, raw public key)`` from its pipe and answers each with one
byte per signature (1: verifies). It ends when the pipe closes, which is also
what happens when the gateway process dies. It never writes to stdout or a log:
what it is sent is partners' reports.
"""

import sys
from multiprocessing.connection import Connection

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.signing import verify_eddsa_token

Check = tuple[str, bytes, bytes]


def serve(conn: Connection) -> None:
    keys: dict[bytes, Ed25519PublicKey] = {}
    while True:
        try:
            chunk: list[Check] = conn.recv()
        except (EOFError, OSError):
            return
        answers = bytearray()
        for token, payload, raw in chunk:
            public = keys.get(raw)
            if public is None:
                public = keys[raw] = Ed25519PublicKey.from_public_bytes(raw)
            answers.append(1 if verify_eddsa_token(token, payload, public) else 0)
        try:
            conn.send_bytes(bytes(answers))
        except (BrokenPipeError, OSError):
            return


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
