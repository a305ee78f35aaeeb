"""Replay's check of ``eerdere`` (spec/selection.md): every signal an audit record names as earlier existed before it.

The gateway's count cannot be replayed exactly: two processes deciding at the
same moment may each not yet see the other's signal, and the memory is rebuilt
from a log that grows while it is read. What can be checked, without the client
key, is that each signal id a routed or released record names was routed or
released about the same client (the same keyed hash) by a record decided no
later than it, that it does not name itself, and that its count holds at
least the ids it names.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.selection.clients import MOST_RECENT

_SIGNALS = ("routed", "released")


@dataclass(frozen=True, slots=True)
class EarlierProblem:
    chain: str
    seq: int
    signal_id: str | None  # the id named, when the problem is one id
    what: str


@dataclass(frozen=True, slots=True)
class _Signal:
    client: str | None
    decided_at: datetime | None


def check_earlier(audit: Iterable[Mapping[str, Any]]) -> list[EarlierProblem]:
    """Every way the ``eerdere`` of ``audit`` (the whole log, any order) is not borne out by the log itself."""
    records = list(audit)
    signals: dict[str, _Signal] = {}
    for record in records:
        signal_id = _signal_id(record)
        if signal_id is None:
            continue
        seen = signals.get(signal_id)
        decided = _moment(record.get("decided_at"))
        if seen is None or (decided is not None and (seen.decided_at is None or decided < seen.decided_at)):
            client = record.get("client")
            signals[signal_id] = _Signal(client if isinstance(client, str) else None, decided)
    return [problem for record in records for problem in _problems(record, signals)]


def _problems(record: Mapping[str, Any], signals: Mapping[str, _Signal]) -> Iterable[EarlierProblem]:
    chain, seq = str(record.get("chain")), _seq(record)
    client, earlier = record.get("client"), record.get("eerdere")
    if client is None and earlier is None:
        return  # not a signal, or a record from before the client memory
    if record.get("outcome") not in _SIGNALS or not isinstance(client, str) or not isinstance(earlier, dict):
        yield EarlierProblem(chain, seq, None, "client and eerdere belong together, on routed and released records")
        return
    recent, count = earlier.get("recent"), earlier.get("aantal")
    if not isinstance(recent, list) or not isinstance(count, int) or len(recent) > MOST_RECENT:
        yield EarlierProblem(chain, seq, None, f"eerdere is not a count and at most {MOST_RECENT} signal ids")
        return
    if count < len(recent):
        yield EarlierProblem(chain, seq, None, f"eerdere counts {count} signals but names {len(recent)}")
    own, decided = _signal_id(record), _moment(record.get("decided_at"))
    for named in recent:
        found = signals.get(named) if isinstance(named, str) else None
        name = named if isinstance(named, str) else None
        if named == own:
            yield EarlierProblem(chain, seq, name, "names its own signal as earlier")
        elif found is None:
            yield EarlierProblem(chain, seq, name, "names a signal no routed or released record of the log has")
        elif found.client != client:
            yield EarlierProblem(chain, seq, name, "names a signal about another client")
        elif found.decided_at is None or decided is None or found.decided_at > decided:
            yield EarlierProblem(chain, seq, name, "names a signal the log records only after it")


def _signal_id(record: Mapping[str, Any]) -> str | None:
    destination = record.get("destination")
    signal_id = destination.get("signal_id") if isinstance(destination, dict) else None
    return signal_id if record.get("outcome") in _SIGNALS and isinstance(signal_id, str) else None


def _moment(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _seq(record: Mapping[str, Any]) -> int:
    seq = record.get("seq")
    return seq if isinstance(seq, int) else -1
