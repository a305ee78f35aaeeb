"""aiokafka's record parsing, made to survive header keys that are not UTF-8 and batches that cannot be decoded (G6).

aiokafka decodes every header *key* strictly as UTF-8 while fetching. One
record with a key that is not UTF-8 (another client could send one) makes
``getmany`` raise, and the gateway would stop on that record at every restart.

Here the fetcher's ``MemoryRecords`` is replaced by one whose batches are
parsed by the fast C parser as before, and only when that parser hits such
a key is the same batch read again by aiokafka's own pure-Python parser,
whose buffer decodes with ``surrogateescape``. The fetcher skips the records
of the batch it has already delivered (it compares offsets), so nothing is
delivered twice. aiokafka is pinned (<0.15) because this reaches into its
record classes; tests/integration/test_hostile_headers.py breaks if they change.

A batch that cannot be decoded at all (a corrupt one, a codec this process
lacks) makes aiokafka raise for the whole fetch: every partition of the
consumer would stop. ``GuardedPartitionRecords`` ends that partition's records
at the batch instead, reports it to ``gateway.kafka.blocked`` and leaves the
position there, so the partition waits at the batch and the others go on.
tests/integration/test_blocked_partition.py breaks if aiokafka changes this.
"""

from collections.abc import Iterator
from typing import Any

from aiokafka.consumer import fetcher
from aiokafka.record.default_records import _DefaultRecordBatchPy
from aiokafka.record.memory_records import _MemoryRecordsPy

from gateway.kafka.blocked import BLOCKED


class _LenientSlice(bytearray):
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytearray.decode(self, encoding, "surrogateescape")


class _LenientBuffer(bytearray):
    def __getitem__(self, key: Any) -> Any:
        item = bytearray.__getitem__(self, key)
        return _LenientSlice(item) if isinstance(key, slice) else item


class _LenientBatch(_DefaultRecordBatchPy):  # type: ignore[misc]  # aiokafka ships no types
    def __init__(self, buffer: bytes | bytearray | memoryview) -> None:
        super().__init__(buffer)
        self._buffer = _LenientBuffer(self._buffer)  # type: ignore[has-type]

    def _maybe_uncompress(self) -> None:
        super()._maybe_uncompress()
        self._buffer = _LenientBuffer(self._buffer)


class _FallbackBatch:
    """The fast batch; read again leniently when a header key is not UTF-8."""

    def __init__(self, fast: Any, raw: memoryview) -> None:
        self._fast = fast
        self._raw = raw
        self._records: Iterator[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fast, name)

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from self._fast
        except UnicodeDecodeError:
            yield from _LenientBatch(self._raw)

    def __next__(self) -> Any:
        # aiokafka takes a control batch's marker with next(batch) (read_committed): a batch is its own iterator.
        if self._records is None:
            self._records = iter(self)
        return next(self._records)


class LenientMemoryRecords(_MemoryRecordsPy):  # type: ignore[misc]  # aiokafka ships no types
    def next_batch(self, *args: Any) -> Any:
        raw = self._next_slice
        batch = super().next_batch(*args)
        if batch is not None and raw is not None and batch.magic >= 2:
            return _FallbackBatch(batch, raw)
        return batch


class GuardedPartitionRecords(fetcher.PartitionRecords):  # type: ignore[misc]  # aiokafka ships no types
    """One partition's fetched records, ending at a batch that cannot be decoded instead of raising."""

    def _unpack_records(self) -> Iterator[Any]:
        try:
            yield from super()._unpack_records()
        except Exception as exc:  # whatever the batch's bytes make the parser or a codec raise
            # next_fetch_offset is the first record not delivered: the fetcher's position stays there.
            BLOCKED.report(self._tp.topic, self._tp.partition, self.next_fetch_offset, exc)


def install() -> None:
    """Make every aiokafka consumer of this process use the lenient, guarded records (idempotent)."""
    fetcher.MemoryRecords = LenientMemoryRecords
    fetcher.PartitionRecords = GuardedPartitionRecords
