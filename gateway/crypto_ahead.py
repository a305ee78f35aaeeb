"""A batch's Ed25519 work in a helper process, while the batch is decided in this one.

A decision verifies one signature (~60 µs) and makes about two (~22 µs each):
a third of what it costs. A thread does not help: ``cryptography`` releases
the GIL while it works, but the thread must take the GIL back after every
signature while the deciding thread holds it (measured: 274 → 251 µs a
decision for verification alone, and worse once signing was added). A helper
process (gateway.crypto_helper) on a spare core does it instead: it verifies
the batch a chunk ahead of the decisions, and signs the outputs as they are
built; this process only sends bytes and reads back a byte per verification
and 64 per signature.

The authenticate stage takes the answer for exactly its token, bytes and key,
or verifies at once when none was asked ahead (a record whose agreement or key
could not be chosen ahead, a key that is not Ed25519). Outputs carry a pending
signature that is complete before they are written. When the helper is gone,
every pending answer is worked out here instead, and a new helper is started
after ``_RESTART_AFTER_S``: decisions and bytes are the same either way, only
where the CPU time is spent differs.
"""

import select
import socket
import subprocess
import sys
import time
from collections import deque
from multiprocessing.connection import Connection

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc.jwk import OKPKey

from contracts.agreement import AgreementKey
from gateway.crypto_helper import Check
from gateway.inbound import InboundRecord
from gateway.pipeline import Rules
from gateway.signing import Signer, detached
from gateway.stages.authenticate import SignatureCheck, signature_check, verify_now

log = structlog.get_logger("gkt.crypto")

SMALL_BATCH = 24  # below this (a light load) the round trips to the helper cost more latency than they save CPU
FIRST_CHUNK = 4  # small: the first decision of a batch waits for it
CHUNK = 16  # verifications or signatures per request: ~18-25 KB of reports
SIGNATURE_BYTES = 64
_RESTART_AFTER_S = 10.0

_Key = tuple[str, int, int]


def _key(check: SignatureCheck) -> _Key:
    # The same bytes object and the same agreed key object the stage will hold: identity, not equality.
    return (check.token, id(check.payload), id(check.key))


class CryptoAhead:
    """The helper process of one gateway process; disabled: everything is verified and signed at once."""

    def __init__(self, enabled: bool, signer: Signer) -> None:
        self._enabled = enabled
        self._signer = signer
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._poller: select.poll | None = None
        self._failed_at = 0.0
        self._raw: dict[int, tuple[AgreementKey, bytes]] = {}

    def start(self, records: list[InboundRecord], rules: Rules) -> "CryptoBatch":
        """The verifications ``records`` will need, handed to the helper as the decisions ask for them."""
        if len(records) < SMALL_BATCH:
            return CryptoBatch(None, self._signer, [], {})
        conn = self._helper()
        if conn is None:
            return CryptoBatch(None, self._signer, [], {})
        checks: list[tuple[SignatureCheck, Check]] = []
        for record in records:
            check = _check_for(record, rules)
            if check is None:
                continue
            raw = self._public_bytes(check.key)
            if raw is not None:
                checks.append((check, (check.token, check.payload, raw)))
        index = {_key(check): i for i, (check, _) in enumerate(checks)}
        return CryptoBatch(self, self._signer, [sent for _, sent in checks], index)

    @property
    def connection(self) -> Connection | None:
        return self._conn

    def answer_waiting(self) -> bool:
        """Whether the helper has answered something not yet read. One poll object kept for the socket:
        ``Connection.poll(0)`` builds and registers a selector on every call (2 % of a decision, py-spy)."""
        return self._poller is not None and bool(self._poller.poll(0))

    def _helper(self) -> Connection | None:
        if not self._enabled:
            return None
        if self._process is not None and self._process.poll() is None and self._conn is not None:
            return self._conn
        if self._process is not None:
            self.failed("the helper process stopped")
        if self._failed_at and time.monotonic() - self._failed_at < _RESTART_AFTER_S:
            return None
        # A plain subprocess, not multiprocessing's spawn: that would import the caller's __main__ again.
        ours, theirs = socket.socketpair()
        with theirs:
            self._process = subprocess.Popen(  # noqa: S603 - this interpreter and a module of ours
                [sys.executable, "-m", "gateway.crypto_helper", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        self._conn = Connection(ours.detach())
        self._poller = select.poll()
        self._poller.register(self._conn.fileno(), select.POLLIN)
        private = self._signer.private.private_bytes_raw()
        self._conn.send(("key", private, self._signer.protected))
        return self._conn

    def failed(self, why: str) -> None:
        """The helper cannot be used: work at once until a new one is started."""
        log.warning("crypto_helper_failed", reason=why, effect="the gateway process verifies and signs itself")
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
        self._conn = self._process = self._poller = None
        if conn is not None:
            conn.close()  # the helper reads the end of its socket and returns
        if process is not None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class PendingSignature:
    """The gateway's signature over one output, made by the helper; made here when the helper is gone."""

    __slots__ = ("_signer", "_token", "payload")

    def __init__(self, signer: Signer, payload: bytes) -> None:
        self._signer, self.payload = signer, payload
        self._token: str | None = None

    def fill(self, signature: bytes) -> None:
        self._token = detached(self._signer.protected, signature)

    def result(self) -> str:
        if self._token is None:
            self._token = self._signer.sign(self.payload)
        return self._token


class CryptoBatch:
    """One batch's requests to the helper, answered in the order they were sent.

    Verifications go a chunk ahead of the decision that needs them; signatures
    go in chunks as outputs are built and are read back by ``finish``.
    """

    def __init__(self, owner: CryptoAhead | None, signer: Signer, checks: list[Check], index: dict[_Key, int]) -> None:
        self._owner, self._signer, self._checks, self._index = owner, signer, checks, index
        self._verified = bytearray()
        self._sent = 0  # verifications sent so far
        self._waiting: deque[tuple[int, list[PendingSignature] | None]] = deque()  # (count, signatures or None)
        self._to_sign: list[PendingSignature] = []
        self._send_checks_up_to(1)

    @property
    def signer(self) -> "Signer | CryptoBatch":
        """What signs this batch's outputs: the helper, or the gateway's signer at once when there is none."""
        return self if self._owner is not None else self._signer

    def verify(self, check: SignatureCheck) -> bool:
        at = self._index.get(_key(check))
        if at is not None and self._answered(at):
            return self._verified[at] == 1
        return verify_now(check)

    def submit(self, payload: bytes) -> PendingSignature:
        """A signature of the gateway over ``payload``, complete once ``finish`` has run."""
        pending = PendingSignature(self._signer, payload)
        if self._owner is not None:
            self._to_sign.append(pending)
            if len(self._to_sign) >= CHUNK:
                self._send_signing()
        return pending

    def finish(self) -> None:
        """Send what is left to sign and read every answer, so that the next batch starts in step."""
        if self._to_sign:
            self._send_signing()
        while self._waiting and self._receive():
            pass

    def _send(self, request: tuple[object, ...], count: int, signatures: list[PendingSignature] | None) -> bool:
        owner = self._owner
        conn = owner.connection if owner is not None else None
        if owner is None or conn is None:
            return False
        try:
            while self._waiting and owner.answer_waiting():  # read what is there first: neither side's buffer fills up
                if not self._receive():
                    return False
            conn.send(request)
        except (OSError, ValueError) as exc:
            self._lost(type(exc).__name__)
            return False
        self._waiting.append((count, signatures))
        return True

    def _send_checks_up_to(self, count: int) -> None:
        while self._owner is not None and self._sent < min(count, len(self._checks)):
            size = FIRST_CHUNK if self._sent == 0 else CHUNK
            chunk = self._checks[self._sent : self._sent + size]
            if not self._send(("verify", chunk), len(chunk), None):
                return
            self._sent += len(chunk)

    def _send_signing(self) -> None:
        chunk, self._to_sign = self._to_sign, []
        self._send(("sign", [pending.payload for pending in chunk]), len(chunk), chunk)

    def _answered(self, at: int) -> bool:
        """Whether verification ``at`` is answered, reading answers as needed; one chunk stays on its way."""
        self._send_checks_up_to(at + 1 + CHUNK)
        while len(self._verified) <= at:
            if not self._waiting or not self._receive():
                return False
        return True

    def _receive(self) -> bool:
        conn = self._owner.connection if self._owner is not None else None
        if conn is None:
            return False
        count, signatures = self._waiting[0]
        try:
            answer = conn.recv_bytes()
        except (EOFError, OSError) as exc:
            self._lost(type(exc).__name__)
            return False
        if len(answer) != count * (1 if signatures is None else SIGNATURE_BYTES):
            self._lost("an answer of the wrong length")
            return False
        self._waiting.popleft()
        if signatures is None:
            self._verified += answer
        else:
            for i, pending in enumerate(signatures):
                pending.fill(answer[i * SIGNATURE_BYTES : (i + 1) * SIGNATURE_BYTES])
        return True

    def _lost(self, why: str) -> None:
        if self._owner is not None:
            self._owner.failed(why)
        self._owner = None
        self._waiting.clear()


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
