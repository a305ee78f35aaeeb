"""``gkt audit verify --file`` over several processes (spec/audit.md: verify "may check them in parallel").

What costs time is per record and needs nothing but the record: parsing it,
checking its hash, checking a checkpoint's signature (``verify.check_bytes``).
Workers do that for consecutive slices of the export, each reading its own
byte range; the main process takes their results in file order and does the
cheap checks that need order (seq, prev, increasing offsets, counting), so
the report is exactly the one-process report, however few the chains. Work is
handed out a slice at a time, so a long export is never held in memory.
"""

import multiprocessing
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from gateway.audit.sources import export_lines
from gateway.audit.verify import ChainVerifier, Checked, check_bytes
from gateway.keyset import KeySet

SLICE_BYTES = 1 << 20  # about a thousand records per hand-over
_WORKER: dict[str, KeySet] = {}  # a pool worker's keys, handed over at fork (key objects do not pickle)


def slices(path: Path, size: int = SLICE_BYTES) -> Iterator[tuple[int, int, int]]:
    """``(start, end, first line number)`` of consecutive byte ranges that end at line ends."""
    total = path.stat().st_size
    with path.open("rb") as handle:
        start, line = 0, 1
        while start < total:
            if start + size >= total:
                end = total
            else:
                handle.seek(start + size)
                handle.readline()  # to the end of the line the boundary falls in
                end = handle.tell()
            handle.seek(start)
            lines = handle.read(end - start).count(b"\n")
            yield start, end, line
            start, line = end, line + lines


def _check_slice(job: tuple[str, int, int, int], keys: KeySet) -> list[tuple[int, Checked | None]]:
    name, start, end, first = job
    with Path(name).open("rb") as handle:
        handle.seek(start)
        block = handle.read(end - start)
    checked = []
    for number, raw in enumerate(block.split(b"\n"), start=first):
        line = raw.rstrip(b"\r")
        if line.strip():
            checked.append((number, check_bytes(line, keys)))
    return checked


def _init_worker(keys: KeySet) -> None:
    _WORKER["keys"] = keys


def _check_in_worker(job: tuple[str, int, int, int]) -> list[tuple[int, Checked | None]]:
    return _check_slice(job, _WORKER["keys"])


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
    jobs = [(str(path), start, end, line) for start, end, line in slices(path, slice_bytes)]
    if count == 1 or len(jobs) == 1:
        number = 0
        for number, raw in export_lines(path):
            verifier.feed_bytes(raw, f"{path}:{number}")
            if number % 1000 == 0:
                progress(number)
        progress(number)
        return verifier
    # fork: the workers get the keys as they are; imap hands back results in file order.
    with multiprocessing.get_context("fork").Pool(count, initializer=_init_worker, initargs=(keys,)) as pool:
        _take_all(verifier, path, pool.imap(_check_in_worker, jobs), progress)
    return verifier


def _take_all(
    verifier: ChainVerifier,
    path: Path,
    results: Iterator[list[tuple[int, Checked | None]]],
    progress: Callable[[int], None],
) -> None:
    for checked in results:  # in file order: imap keeps it
        for number, item in checked:
            if item is None:
                verifier.unparsable(f"{path}:{number}")
            else:
                verifier.take(item)
        if checked:
            progress(checked[-1][0])
