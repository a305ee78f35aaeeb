"""Reference data about clients (``bd.ref.opdrachtgevers``), kept in memory.

The same table is filled from the compacted topic by the service and from a
JSON Lines file offline (``gkt check``, tests). A compacted topic may still
return every version of a key (tansu never compacts), so the last one wins.
"""

import bisect
import functools
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from contracts.fields import IsoDate, KvkNummer
from contracts.jsonio import canonical, sha256_digest, strict_loads
from routing.errors import RoutingDataError


class ReferenceRecord(BaseModel):
    """What the Belastingdienst knows of one client, as the gateway may use it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    kvkNummer: KvkNummer
    segment: Literal["mkb", "go"]
    horizontaalToezichtLoonheffingen: StrictBool
    aanwijzingDatum: IsoDate | None = None
    modelovereenkomstTot: IsoDate | None = None
    htNiveau: Literal["volledigheid", "juistheid", "fiscaliteit"] | None = None

    @functools.cached_property  # a record is immutable; routing names its digest for every signal
    def digest(self) -> str:
        """What the audit record names (``versions.reference``): replay checks it used the same data.

        ``htNiveau`` came later: left out while null, so that a record from before
        it keeps the digest its decisions recorded.
        """
        fields = self.model_dump(mode="json")
        if fields["htNiveau"] is None:
            del fields["htNiveau"]
        return sha256_digest(canonical(fields))


class ClientLookup(Protocol):
    """Where routing finds a client: the live table, or the table as it was (replay)."""

    def get(self, kvk_nummer: str) -> ReferenceRecord | None: ...


class ReferenceTable:
    """Client reference records by KVK-nummer."""

    def __init__(self) -> None:
        self._records: dict[str, ReferenceRecord] = {}

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[ReferenceRecord]:
        return iter(self._records.values())

    def get(self, kvk_nummer: str) -> ReferenceRecord | None:
        return self._records.get(kvk_nummer)

    def apply(self, key: bytes | None, value: bytes | None) -> bool:
        """Apply one topic record (``None`` value deletes); False when it is unusable.

        A bad record is skipped, not fatal: the table must follow the topic even
        when one producer write was wrong. The caller counts and logs the skip.
        """
        if key is None:
            return False
        kvk_nummer = key.decode("utf-8", errors="replace")
        if value is None:
            self._records.pop(kvk_nummer, None)
            return True
        try:
            record = ReferenceRecord.model_validate(strict_loads(value))
        except (ValueError, ValidationError):
            return False
        if record.kvkNummer != kvk_nummer:
            return False
        self._records[kvk_nummer] = record
        return True

    @classmethod
    def from_jsonl(cls, path: Path) -> "ReferenceTable":
        """Load a JSON Lines file; every line must be a valid record (fails naming the line)."""
        table = cls()
        try:
            lines = path.read_bytes().splitlines()
        except OSError as exc:
            raise RoutingDataError(f"{path}: cannot read reference data ({exc.strerror})") from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = ReferenceRecord.model_validate(strict_loads(line))
            except (ValueError, ValidationError) as exc:
                raise RoutingDataError(f"{path}:{number}: not a valid reference record") from exc
            table._records[record.kvkNummer] = record
        return table


def _parse(value: bytes | None) -> ReferenceRecord | None:
    if value is None:
        return None
    try:
        return ReferenceRecord.model_validate(strict_loads(value))
    except (ValueError, ValidationError):
        return None


class ReferenceHistory:
    """Every version of every client record with its Kafka timestamp, for replay.

    The topic is compacted in production, so history older than the last
    compaction is gone; replay then reports the difference in
    ``versions.reference`` instead of guessing.
    """

    def __init__(self) -> None:
        self._versions: dict[str, tuple[list[int], list[ReferenceRecord | None]]] = {}

    def add(self, key: bytes | None, value: bytes | None, timestamp_ms: int) -> None:
        if key is None:
            return
        times, records = self._versions.setdefault(key.decode("utf-8", errors="replace"), ([], []))
        index = bisect.bisect_right(times, timestamp_ms)
        times.insert(index, timestamp_ms)
        records.insert(index, _parse(value))

    def at(self, moment: datetime) -> ClientLookup:
        return _ReferenceAt(self, int(moment.timestamp() * 1000))

    def get_at(self, kvk_nummer: str, millis: int) -> ReferenceRecord | None:
        times, records = self._versions.get(kvk_nummer, ([], []))
        index = bisect.bisect_right(times, millis)
        return records[index - 1] if index else None


class _ReferenceAt:
    def __init__(self, history: ReferenceHistory, millis: int) -> None:
        self._history, self._millis = history, millis

    def get(self, kvk_nummer: str) -> ReferenceRecord | None:
        return self._history.get_at(kvk_nummer, self._millis)
