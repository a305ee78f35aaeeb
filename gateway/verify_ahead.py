"""A batch's signature verifications in a helper process, while the batch is decided in this one.

An Ed25519 verification is ~60 µs of the ~300 µs a decision costs. A thread
does not help: ``cryptography`` releases the GIL while it verifies, but the
thread must take the GIL back after every signature, and the deciding thread
holds it (measured: 274 → 251 µs a decision, and worse once signing was added).
A helper process (gateway.verify_helper) on a spare core verifies the batch
chunk by chunk, a chunk ahead of the decisions; this process sends the bytes
and reads one byte back per signature, a few µs.

The authenticate stage takes the answer for exactly its token, bytes and key,
or verifies at once when none was asked ahead (a record whose agreement or key
could not be chosen ahead, a key that is not Ed25519) or when the helper is
gone: the decision is the same either way, only where the CPU time is spent
differs. A helper that dies is started again at the next batch.
"""

import socket
import subprocess
import sys
import time
from multiprocessing.connection import Connection

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc.jwk import OKPKey

from contracts.agreement import AgreementKey
from gateway.inbound import InboundRecord
from gateway.pipeline import Rules
from gateway.stages.authenticate import SignatureCheck, Verify, signature_check, verify_now
from gateway.verify_helper import Check

log = structlog.get_logger("gkt.verify")

FIRST_CHUNK = 4  # small: the first decision of a batch waits for it
CHUNK = 16  # ~18 KB of reports: two chunks on their way stay under a pipe's 64 KB buffer
_RESTART_AFTER_S = 10.0

_Key = tuple[str, int, int]


def _key(check: SignatureCheck) -> _Key:
    # The same bytes object and the same agreed key object the stage will hold: identity, not equality.
    return (check.token, id(check.payload), id(check.key))


class VerifyAhead:
    """Verification ahead of the decisions in a helper process; off: every signature is verified at once."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._failed_at = 0.0
        self._raw: dict[int, tuple[AgreementKey, bytes]] = {}

    def start(self, records: list[InboundRecord], rules: Rules) -> "Batch":
        """The verifications ``records`` will need, handed to the helper as the decisions ask for them."""
        conn = self._helper()
        if conn is None:
            return Batch(None, [], {})
        checks: list[tuple[SignatureCheck, Check]] = []
        for record in records:
            check = _check_for(record, rules)
            if check is None:
                continue
            raw = self._public_bytes(check.key)
            if raw is not None:
                checks.append((check, (check.token, check.payload, raw)))
        index = {_key(check): i for i, (check, _) in enumerate(checks)}
        return Batch(self, [sent for _, sent in checks], index)

    def _helper(self) -> Connection | None:
        if not self._enabled:
            return None
        if self._process is not None and self._process.poll() is None and self._conn is not None:
            return self._conn
        if self._process is not None:
            self.failed("the verify helper stopped")
        if self._failed_at and time.monotonic() - self._failed_at < _RESTART_AFTER_S:
            return None
        # A plain subprocess, not multiprocessing's spawn: that would import the caller's __main__ again.
        ours, theirs = socket.socketpair()
        with theirs:
            self._process = subprocess.Popen(  # noqa: S603 - this interpreter and a module of ours
                [sys.executable, "-m", "gateway.verify_helper", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        self._conn = Connection(ours.detach())
        return self._conn

    def failed(self, why: str) -> None:
        """The helper cannot be used: verify at once until it is started again."""
        log.warning("verify_helper_failed", reason=why, effect="signatures are verified in the gateway process")
        self._failed_at = time.monotonic()
        self.close()

    def _public_bytes(self, key: AgreementKey) -> bytes | None:
        known = self._raw.get(id(key))
        if known is not None and known[0] is key:
            return known[1]
        raw = None
        if key.alg == "EdDSA" and isinstance(key.key, OKPKey) and isinstance(key.key.public_key, Ed25519PublicKey):
            raw = key.key.public_key.public_bytes_raw()
        if raw is not None:
            self._raw[id(key)] = (key, raw)
        return raw

    def close(self) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            conn.close()  # the helper reads the end of its connection and returns
        if process is not None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Batch:
    """One batch's verifications: sent a chunk ahead of the decision that needs them, answered in order."""

    def __init__(self, owner: VerifyAhead | None, checks: list[Check], index: dict[_Key, int]) -> None:
        self._owner, self._checks, self._index = owner, checks, index
        self._answers = bytearray()
        self._sent = 0  # checks sent so far
        self._chunks: list[int] = []  # sizes of the chunks sent and not answered yet
        self._send_up_to(1)

    def verify(self, check: SignatureCheck) -> bool:
        at = self._index.get(_key(check))
        if at is not None and self._owner is not None and self._answer_up_to(at):
            return self._answers[at] == 1
        return verify_now(check)

    def finish(self) -> None:
        """Read the answers still on their way, so that the next batch starts in step."""
        if self._owner is not None and self._chunks:
            self._answer_up_to(self._sent - 1)

    def _send_up_to(self, count: int) -> None:
        conn = self._owner._conn if self._owner is not None else None
        while conn is not None and self._sent < min(count, len(self._checks)):
            size = FIRST_CHUNK if self._sent == 0 else CHUNK
            chunk = self._checks[self._sent : self._sent + size]
            try:
                conn.send(chunk)
            except (OSError, ValueError) as exc:
                self._lost(type(exc).__name__)
                return
            self._sent += len(chunk)
            self._chunks.append(len(chunk))

    def _answer_up_to(self, at: int) -> bool:
        """Make sure the answer for check ``at`` is in, keeping one chunk queued beyond it."""
        self._send_up_to(at + 1 + CHUNK)
        conn = self._owner._conn if self._owner is not None else None
        while len(self._answers) <= at:
            if conn is None or not self._chunks:
                return False
            try:
                answers = conn.recv_bytes()
            except (EOFError, OSError) as exc:
                self._lost(type(exc).__name__)
                return False
            if len(answers) != self._chunks.pop(0):
                self._lost("an answer of the wrong length")
                return False
            self._answers += answers
            self._send_up_to(at + 1 + CHUNK)
        return True

    def _lost(self, why: str) -> None:
        if self._owner is not None:
            self._owner.failed(why)
        self._owner = None


def _check_for(record: InboundRecord, rules: Rules) -> SignatureCheck | None:
    """What the authenticate stage will ask to verify, chosen as it will choose it; None when it will not ask."""
    partner = rules.topics.partner_of(record.position.topic)
    if partner is None or record.value is None or not record.dated:
        return None
    agreement = rules.agreements.governing(partner, record.received_at)
    if agreement is None:
        return None
    check = signature_check(record, agreement)
    return check if isinstance(check, SignatureCheck) else None


__all__ = ["Batch", "Verify", "VerifyAhead"]
