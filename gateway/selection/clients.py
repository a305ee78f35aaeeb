"""The client memory: which signals the gateway routed or released about a client, by keyed hash.

spec/selection.md: a signal says how many signals about the same client
(``opdrachtgever.kvkNummer``) the gateway routed or released in the five years
before the report was received, and names the ten most recent. The memory
never holds a KVK-nummer: clients are known by HMAC-SHA-256 under the
gateway's client key, and that hash is what the audit record carries
(``client``), so the memory is rebuilt from the audit log alone, without the
key. Rotating the key starts a new memory.

Pure: no Kafka, no clock. The service feeds it the audit log and its own decisions.
"""

import bisect
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.jsonio import from_millis, utc_iso

CLIENT_PREFIX = "hmac-sha256:"
WINDOW_MS = 5 * 366 * 86_400_000  # five years, leap days included: a little more is the safe side
MOST_RECENT = 10
MIN_KEY_BYTES = 32


def client_digest(key: bytes, kvk_nummer: str) -> str:
    """``hmac-sha256:<hex>`` of the KVK-nummer: the client as the audit log and the memory know it."""
    return CLIENT_PREFIX + hmac.new(key, kvk_nummer.encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True, order=True)
class EarlierSignal:
    """One signal about a client: when its report was received (ms), its id and the partner that sent it."""

    received_ms: int
    signal_id: str
    partner: str

    def as_signal(self) -> dict[str, str]:
        return {
            "signaalId": self.signal_id,
            "partner": self.partner,
            "ontvangenOp": utc_iso(from_millis(self.received_ms)),
        }


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


@dataclass
class ClientMemory:
    """Signals per client hash, each kept once, in order of receipt; bounded by ``prune``."""

    _signals: dict[str, list[EarlierSignal]] = field(default_factory=dict)
    _known: set[str] = field(default_factory=set)

    def remember(self, client: str, signal: EarlierSignal) -> None:
        """Note a routed or released signal; the same signal id twice (a crash's rewrite, a log read twice) once."""
        if signal.signal_id in self._known:
            return
        self._known.add(signal.signal_id)
        bisect.insort(self._signals.setdefault(client, []), signal)

    def earlier(self, client: str, received_ms: int) -> Earlier:
        """The signals about ``client`` whose reports were received in the five years before ``received_ms``."""
        signals = self._signals.get(client, [])
        start = bisect.bisect_left(signals, received_ms - WINDOW_MS, key=_received)
        end = bisect.bisect_left(signals, received_ms, key=_received)
        window = signals[start:end]
        return Earlier(len(window), tuple(reversed(window[-MOST_RECENT:])))

    def prune(self, before_ms: int) -> int:
        """Forget signals received before ``before_ms`` (five years before the oldest report still decided)."""
        dropped = 0
        for client in list(self._signals):
            signals = self._signals[client]
            cut = bisect.bisect_left(signals, before_ms, key=_received)
            for signal in signals[:cut]:
                self._known.discard(signal.signal_id)
            dropped += cut
            if cut == len(signals):
                del self._signals[client]
            elif cut:
                del signals[:cut]
        return dropped

    def apply(self, record: dict[str, Any], received_ms: int | None = None) -> None:
        """Take one audit record as read from the log: a routed report, or a released one (a verdict record, whose
        report's time of receipt the caller knows from the review state: ``received_ms``)."""
        client = record.get("client")
        destination = record.get("destination") or {}
        signal_id = destination.get("signal_id")
        if record.get("outcome") not in ("routed", "released") or not isinstance(client, str) or not signal_id:
            return
        if received_ms is None:
            received_ms = _received_ms(record)
        agreement = str((record.get("versions") or {}).get("agreement") or "")
        partner = agreement.split(":", 1)[0]
        if received_ms is not None and partner:
            self.remember(client, EarlierSignal(received_ms, str(signal_id), partner))

    def __len__(self) -> int:
        return len(self._known)


def _received(signal: EarlierSignal) -> int:
    return signal.received_ms


def _received_ms(record: dict[str, Any]) -> int | None:
    stamp = (record.get("inbound") or {}).get("timestamp")
    try:
        return int(datetime.fromisoformat(stamp).timestamp() * 1000) if isinstance(stamp, str) else None
    except ValueError:
        return None
