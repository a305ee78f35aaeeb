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
import functools
import re
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.jsonio import from_millis, utc_iso
from gateway.audit.received import received_ms as received_ms_of
from gateway.selection.key import CLIENT_PREFIX

WINDOW_MS = 5 * 366 * 86_400_000  # five years, leap days included: a little more is the safe side
MOST_RECENT = 10
MAX_PENDING = 100_000  # releases waiting for their report's decision; a forged verdict record names an item never
# decided and would otherwise wait for ever: past this the oldest waiting release is let go
_PARTNER = re.compile(r"[a-z][a-z0-9-]{1,30}")  # as agreements name partners (contracts/agreement.py)


@dataclass(frozen=True, slots=True)
class EarlierSignal:
    """One signal about a client: when its report was received (ms), its id and the partner that sent it."""

    received_ms: int
    signal_id: str
    partner: str

    def as_signal(self) -> dict[str, str]:
        return _as_signal(self)


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


@dataclass(frozen=True, slots=True)
class Selected:
    """What the client memory adds to a routed or released report: who the client is (its digest) and the
    signals about it before; the signal's ``eerdereSignalen`` and the audit record's ``client`` and ``eerdere``."""

    client: str
    earlier: Earlier


# One entry: (received ms, the signal id's 16 bytes, the partner). Tuples sort by time first.
_Entry = tuple[int, bytes, str]


# A client signalled often is looked up for each of its signals, and its ten most recent move by one each
# time: nine of the ten entries were made text the time before. Both caches hold immutable values (the dict
# is only ever serialised), at most a few thousand, whatever the memory holds.
@functools.lru_cache(maxsize=4096)
def _earlier_signal(entry: _Entry) -> EarlierSignal:
    received_ms, signal_id, partner = entry
    return EarlierSignal(received_ms, str(uuid.UUID(bytes=signal_id)), partner)


@functools.lru_cache(maxsize=4096)
def _as_signal(signal: EarlierSignal) -> dict[str, str]:
    received = utc_iso(from_millis(signal.received_ms))
    return {"signaalId": signal.signal_id, "partner": signal.partner, "ontvangenOp": received}


HeldSince = Callable[[str], int | None]
"""When the held report a verdict names (``review.item``) was received, in ms; None if the log has not said yet."""


@dataclass
class ClientMemory:
    """Signals per client digest, each signal once, in order of receipt; bounded by ``prune``.

    Only what the gateway itself writes is taken: a client digest of 64 hex digits, a signal id in the
    gateway's form (a UUID), a partner named as agreements name partners. Anything else (a record someone
    forged onto ``gkt.audit``) is left out, so every entry has a known size and every id it gives back is
    one a signal can carry.
    """

    _signals: dict[bytes, list[_Entry]] = field(default_factory=dict)
    _known: dict[bytes, _Entry] = field(default_factory=dict)  # each signal id's entry: feedback looks it up
    # Releases read before the quarantine decision they close (another audit partition): the report's time
    # of receipt is in that record. Keyed by the item (``<topic>/<partition>/<offset>``).
    _pending: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def remember(self, client: str, signal: EarlierSignal) -> None:
        """Note a routed or released signal; the same signal id twice (a crash's rewrite, a log read twice) once."""
        digest, signal_id = _digest_bytes(client), signal_id_bytes(signal.signal_id)
        if digest is None or signal_id is None or signal_id in self._known or not _PARTNER.fullmatch(signal.partner):
            return
        entry = self._known[signal_id] = (signal.received_ms, signal_id, sys.intern(signal.partner))
        bisect.insort(self._signals.setdefault(digest, []), entry)

    def earlier(self, client: str, received_ms: int) -> Earlier:
        """The signals about ``client`` whose reports were received in the five years before ``received_ms``."""
        digest = _digest_bytes(client)
        entries = self._signals.get(digest, []) if digest is not None else []
        start = bisect.bisect_left(entries, received_ms - WINDOW_MS, key=_received)
        end = bisect.bisect_left(entries, received_ms, key=_received)
        newest = entries[max(start, end - MOST_RECENT) : end]
        return Earlier(end - start, tuple(_earlier_signal(entry) for entry in reversed(newest)))

    def signal(self, signal_id: str) -> EarlierSignal | None:
        """The signal ``signal_id`` when the gateway routed or released it (in the window), else None."""
        key = signal_id_bytes(signal_id)
        entry = self._known.get(key) if key is not None else None
        if entry is None:
            return None
        received_ms, _, partner = entry
        return EarlierSignal(received_ms, signal_id, partner)

    def prune(self, before_ms: int) -> int:
        """Forget signals received before ``before_ms``: five years before the oldest report still to be
        decided (a report held in quarantine is released with its own time of receipt)."""
        dropped = 0
        for digest in list(self._signals):
            entries = self._signals[digest]
            cut = bisect.bisect_left(entries, before_ms, key=_received)
            for _, signal_id, _ in entries[:cut]:
                del self._known[signal_id]
            dropped += cut
            if cut == len(entries):
                del self._signals[digest]
            else:
                del entries[:cut]
        return dropped

    def apply(self, record: Mapping[str, Any], held_since: HeldSince) -> None:
        """Take one audit record as read from the log, in any order of chains.

        A routed report counts from its own time of receipt (``inbound.timestamp``). A release (a verdict
        record) counts from the time its report was received, which ``held_since`` looks up in the review
        state; a release read before that report's quarantine decision waits for it.
        """
        outcome = record.get("outcome")
        if outcome == "quarantined":
            self._resolve(record)
            return
        client, destination = record.get("client"), record.get("destination")
        signal_id = destination.get("signal_id") if isinstance(destination, dict) else None
        if outcome not in ("routed", "released") or not isinstance(client, str) or not isinstance(signal_id, str):
            return
        versions = record.get("versions")
        agreement = versions.get("agreement") if isinstance(versions, dict) else None
        partner = agreement.split(":", 1)[0] if isinstance(agreement, str) else ""
        if outcome == "routed":
            received = received_ms_of(record)
        else:
            review = record.get("review")
            item = str(review.get("item")) if isinstance(review, dict) else ""
            received = held_since(item)
            if received is None:
                self._pending[item] = (client, signal_id, partner)
                if len(self._pending) > MAX_PENDING:
                    del self._pending[next(iter(self._pending))]
                return
        if received is not None:
            self.remember(client, EarlierSignal(received, signal_id, partner))

    def _resolve(self, quarantined: Mapping[str, Any]) -> None:
        inbound = quarantined.get("inbound")
        if not self._pending or not isinstance(inbound, dict):
            return
        item = f"{inbound.get('topic')}/{inbound.get('partition')}/{inbound.get('offset')}"
        waiting, received = self._pending.pop(item, None), received_ms_of(quarantined)
        if waiting is not None and received is not None:
            client, signal_id, partner = waiting
            self.remember(client, EarlierSignal(received, signal_id, partner))

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


# A UUID as ``str(uuid.UUID(...))`` writes it: the only form of the gateway's signal ids.
_SIGNAL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def signal_id_bytes(signal_id: object) -> bytes | None:
    """A signal id in the gateway's form (a ``uuid5``, lower case) as its 16 bytes; None for anything else.

    A pattern, not ``uuid.UUID(...)`` and back to text (which says the same, tested): this runs for each
    signal routed and each read back from the log, and the pattern takes a quarter of the time."""
    if not isinstance(signal_id, str) or not _SIGNAL_ID.fullmatch(signal_id):
        return None
    return bytes.fromhex(signal_id.replace("-", ""))
