"""Reference data about clients (``bd.ref.opdrachtgevers``), kept in memory.

The same table is filled from the compacted topic by the service and from a
JSON Lines file offline (``gkt check``, tests). A compacted topic may still
return every version of a key (tansu never compacts), so the last one wins.
"""

import bisect
import functools
import hashlib
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
        """Load a JSON Lines file; every line must be a valid record (fails naming the line and why)."""
        table = cls()
        for _number, record in checked_records(path):
            table._records[record.kvkNummer] = record
        return table


_LOW_64 = (1 << 64) - 1


def checked_records(path: Path) -> Iterator[tuple[int, ReferenceRecord]]:
    """``(line number, record)`` of every non-blank line of a JSON Lines file, read as a stream.

    A line that is no valid record, or a ``kvkNummer`` a line before gave other content, raises
    ``RoutingDataError`` naming the line, the field and why, never a value. A line repeating an earlier
    one exactly is yielded again (publishing it twice changes nothing on a compacted topic). Memory is
    bounded by the number of distinct clients, at two machine integers each.
    """
    first: dict[int, int] = {}  # kvkNummer -> its first line << 64 | a 64-bit digest of the record's content
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                record = _record_on_line(path, number, raw)
                content = int.from_bytes(
                    hashlib.blake2b(canonical(record.model_dump(mode="json")), digest_size=8).digest()
                )
                earlier = first.setdefault(int(record.kvkNummer), number << 64 | content)
                if earlier & _LOW_64 != content:
                    raise RoutingDataError(
                        f"{path}:{number}: kvkNummer is on line {earlier >> 64} too, with other content:"
                        " one record per client (which one is meant?)"
                    )
                yield number, record
    except OSError as exc:
        raise RoutingDataError(f"{path}: cannot read reference data ({exc.strerror})") from exc


def _record_on_line(path: Path, number: int, raw: bytes) -> ReferenceRecord:
    try:
        return ReferenceRecord.model_validate(strict_loads(raw.rstrip(b"\r\n")))
    except ValidationError as exc:
        error = exc.errors(include_input=False)[0]
        field = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        why = f"{field}: {message}" if field else "not one JSON object"
        raise RoutingDataError(f"{path}:{number}: not a valid reference record: {why}") from None
    except UnicodeDecodeError:
        raise RoutingDataError(f"{path}:{number}: not a valid reference record: not UTF-8") from None
    except ValueError:
        raise RoutingDataError(
            f"{path}:{number}: not a valid reference record: not one JSON object (I-JSON, no repeated names)"
        ) from None


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
