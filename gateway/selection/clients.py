"""The client memory: which signals the gateway routed or released about a client, by keyed hash.

spec/selection.md: a signal says how many signals about the same client
(``opdrachtgever.kvkNummer``) the gateway routed or released in the five years
before the report was received, and names the ten most recent. The memory
never holds a KVK-nummer: clients are known by HMAC-SHA-256 under the
gateway's client key, and that hash is what the audit record carries
(``client``), so the memory is rebuilt from the audit log alone, without the
key. Rotating the key starts a new memory.

Five years of signals may be millions of entries, so they are kept as plain
tuples of bytes (digest, UUID) rather than objects and hex text.

Pure: no Kafka, no clock. The service feeds it the audit log and its own decisions.
"""

import bisect
import hashlib
import hmac
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

from contracts.jsonio import from_millis, utc_iso
from gateway.audit.record import received_ms as received_ms_of

CLIENT_PREFIX = "hmac-sha256:"
WINDOW_MS = 5 * 366 * 86_400_000  # five years, leap days included: a little more is the safe side
MOST_RECENT = 10


def client_digest(key: bytes, kvk_nummer: str) -> str:
    """``hmac-sha256:<hex>`` of the KVK-nummer: the client as the audit log and the memory know it."""
    return CLIENT_PREFIX + hmac.new(key, kvk_nummer.encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class EarlierSignal:
    """One signal about a client: when its report was received (ms), its id and the partner that sent it."""

    received_ms: int
    signal_id: str
    partner: str

    def as_signal(self) -> dict[str, str]:
        received = utc_iso(from_millis(self.received_ms))
        return {"signaalId": self.signal_id, "partner": self.partner, "ontvangenOp": received}


@dataclass(frozen=True, slots=True)
class Earlier:
    """``eerdereSignalen``: how many, and the ten most recent, newest first."""

    aantal: int = 0
    recent: tuple[EarlierSignal, ...] = ()

    def as_signal(self) -> dict[str, object]:
        return {"aantal": self.aantal, "recent": [signal.as_signal() for signal in self.recent]}

    def as_audit(self) -> dict[str, object]:
        """The audit record's ``eerdere``: replay checks each id named was in the log before (spec/selection.md)."""
        return {"aantal": self.aantal, "recent": [signal.signal_id for signal in self.recent]}


# One entry: (received ms, the signal id as bytes, the partner). Tuples sort by time first.
_Entry = tuple[int, bytes, str]


@dataclass
class ClientMemory:
    """Signals per client digest, each signal once, in order of receipt; bounded by ``prune``."""

    _signals: dict[bytes, list[_Entry]] = field(default_factory=dict)
    _known: set[bytes] = field(default_factory=set)

    def remember(self, client: str, signal: EarlierSignal) -> None:
        """Note a routed or released signal; the same signal id twice (a crash's rewrite, a log read twice) once.

        A ``client`` that is no digest of ours is not remembered: the memory holds only what it can bound.
        """
        digest = _digest_bytes(client)
        signal_id = _id_bytes(signal.signal_id)
        if digest is None or signal_id in self._known:
            return
        self._known.add(signal_id)
        bisect.insort(self._signals.setdefault(digest, []), (signal.received_ms, signal_id, sys.intern(signal.partner)))

    def earlier(self, client: str, received_ms: int) -> Earlier:
        """The signals about ``client`` whose reports were received in the five years before ``received_ms``."""
        digest = _digest_bytes(client)
        entries = self._signals.get(digest, []) if digest is not None else []
        start = bisect.bisect_left(entries, received_ms - WINDOW_MS, key=_received)
        end = bisect.bisect_left(entries, received_ms, key=_received)
        newest = entries[max(start, end - MOST_RECENT) : end]
        recent = tuple(EarlierSignal(ms, _id_text(signal_id), partner) for ms, signal_id, partner in reversed(newest))
        return Earlier(end - start, recent)

    def prune(self, before_ms: int) -> int:
        """Forget signals received before ``before_ms`` (five years before the oldest report still decided)."""
        dropped = 0
        for digest in list(self._signals):
            entries = self._signals[digest]
            cut = bisect.bisect_left(entries, before_ms, key=_received)
            self._known.difference_update(signal_id for _, signal_id, _ in entries[:cut])
            dropped += cut
            if cut == len(entries):
                del self._signals[digest]
            else:
                del entries[:cut]
        return dropped

    def apply(self, record: dict[str, Any], received_ms: int | None = None) -> None:
        """Take one audit record as read from the log: a routed report, or a released one (a verdict record, whose
        report's time of receipt the caller knows from the review state: ``received_ms``)."""
        client = record.get("client")
        signal_id = (record.get("destination") or {}).get("signal_id")
        if record.get("outcome") not in ("routed", "released") or not isinstance(client, str):
            return
        if not isinstance(signal_id, str):
            return
        if received_ms is None:
            received_ms = received_ms_of(record)
        partner = str((record.get("versions") or {}).get("agreement") or "").split(":", 1)[0]
        if received_ms is not None and partner:
            self.remember(client, EarlierSignal(received_ms, signal_id, partner))

    def __len__(self) -> int:
        return len(self._known)


def _received(entry: _Entry) -> int:
    return entry[0]


def _digest_bytes(client: str) -> bytes | None:
    hexed = client.removeprefix(CLIENT_PREFIX)
    if len(hexed) != 64 or hexed == client:
        return None
    try:
        return bytes.fromhex(hexed)
    except ValueError:
        return None


def _id_bytes(signal_id: str) -> bytes:
    """A signal id in the gateway's form (a ``uuid5``, lower case): ``u`` and its 16 bytes; any other ``t`` and
    its text, so that every id comes back exactly as given."""
    try:
        parsed = uuid.UUID(signal_id) if len(signal_id) == 36 else None
    except ValueError:
        parsed = None
    return b"u" + parsed.bytes if parsed is not None and str(parsed) == signal_id else b"t" + signal_id.encode()


def _id_text(signal_id: bytes) -> str:
    return str(uuid.UUID(bytes=signal_id[1:])) if signal_id[:1] == b"u" else signal_id[1:].decode()
