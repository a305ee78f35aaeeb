"""``gkt audit verify --file`` over several processes (spec/audit.md: verify "may check them in parallel").

Workers take consecutive slices of the export, each reading its own byte range,
and check them whole: every record's hash and signature, and, in order, each
chain's records within the slice (``verify.SliceVerifier``). The main process
joins the slices in file order (``ChainVerifier.join``): it checks only that
each chain's first record in a slice follows where the chain stood, and adds
up. So the report is exactly the one-process report, however few the chains,
and the main process handles a few values per chain and slice, not every
record. Work is handed out a slice at a time, so a long export is never held
in memory.
"""

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from gateway.audit.verify import ChainVerifier, SliceChain, SliceVerifier
from gateway.keyset import KeySet

SLICE_BYTES = 4 << 20  # about 3,000 records a hand-over: 1 MiB slices verified 269,000 /s, 4 MiB 288,000, more no more
_WORKER: dict[str, object] = {}  # a pool worker's keys and wanted seqs, handed over at fork (keys do not pickle)


def slices(path: Path, size: int = SLICE_BYTES) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of consecutive byte ranges that end at line ends. Only the boundaries are read: the
    workers count the lines (the line numbers only matter for naming an unreadable line)."""
    total = path.stat().st_size
    with path.open("rb") as handle:
        start = 0
        while start < total:
            if start + size >= total:
                end = total
            else:
                handle.seek(start + size)
                handle.readline()  # to the end of the line the boundary falls in
                end = handle.tell()
            yield start, end
            start = end


class Slice(NamedTuple):
    """A slice checked by a worker: its chains, its lines that are no record (counted from its first), its lines."""

    parts: list[SliceChain]
    unreadable: list[int]
    lines: int


def read_slice(name: str, start: int, end: int) -> bytes:
    with Path(name).open("rb") as handle:
        handle.seek(start)
        return handle.read(end - start)


def check_slice(job: tuple[str, int, int], keys: KeySet, wanted: dict[str, set[int]]) -> Slice:
    """The slice ``(file, start, end)`` checked whole, each chain in order (``SliceVerifier``)."""
    verifier = SliceVerifier(keys, wanted)
    lines, unreadable = verifier.feed_lines(read_slice(*job))
    return Slice(verifier.parts(), unreadable, lines)


def _init_worker(keys: KeySet, wanted: dict[str, set[int]]) -> None:
    _WORKER["keys"], _WORKER["wanted"] = keys, wanted


def _check_in_worker(job: tuple[str, int, int]) -> Slice:
    return check_slice(job, _WORKER["keys"], _WORKER["wanted"])  # type: ignore[arg-type]


def verify_export(
    path: Path,
    keys: KeySet,
    workers: int | None = None,
    progress: Callable[[int], None] = lambda _: None,
    slice_bytes: int = SLICE_BYTES,
    verifier: ChainVerifier | None = None,
) -> ChainVerifier:
    """Check every record of the export ``path``; ``progress`` hears the line number reached.
    Returns the verifier (``verifier`` when given), not yet finished (``missing`` and ``finish`` follow)."""
    count = max(1, workers or os.cpu_count() or 1)
    verifier = verifier if verifier is not None else ChainVerifier(keys)
    jobs = [(str(path), start, end) for start, end in slices(path, slice_bytes)]
    if count == 1 or len(jobs) == 1:
        lines = 0
        for job in jobs:
            read, unreadable = verifier.feed_lines(read_slice(*job))
            _name_unreadable(verifier, path, lines, unreadable)
            lines += read
            progress(lines)
        return verifier
    # fork: the workers get the keys as they are; imap hands back results in file order.
    wanted = verifier.wanted
    with multiprocessing.get_context("fork").Pool(count, initializer=_init_worker, initargs=(keys, wanted)) as pool:
        join_slices(verifier, path, pool.imap(_check_in_worker, jobs), progress)
    return verifier


def join_slices(
    verifier: ChainVerifier, path: Path, checked: Iterable[Slice], progress: Callable[[int], None] = lambda _: None
) -> None:
    """Go on with every chain from the slices of ``path``, checked by workers, taken in file order."""
    lines = 0
    for piece in checked:
        for part in piece.parts:
            verifier.join(part)
        _name_unreadable(verifier, path, lines, piece.unreadable)
        lines += piece.lines
        progress(lines)


def _name_unreadable(verifier: ChainVerifier, path: Path, before: int, unreadable: list[int]) -> None:
    """Name each unreadable line of a slice by its number in the file (``before`` lines precede the slice)."""
    for line in unreadable:
        verifier.unparsable(f"{path}:{before + line}")
