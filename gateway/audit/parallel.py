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
from collections.abc import Callable, Iterator
from pathlib import Path

from gateway.audit.sources import export_lines
from gateway.audit.verify import ChainVerifier, Problem, SliceChain, SliceVerifier
from gateway.keyset import KeySet

SLICE_BYTES = 1 << 20  # about a thousand records per hand-over
_WORKER: dict[str, object] = {}  # a pool worker's keys and wanted seqs, handed over at fork (keys do not pickle)


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


Checked = tuple[list[SliceChain], list[Problem], int]  # a slice's chains, its unreadable lines, its last line


def _check_slice(job: tuple[str, int, int, int], keys: KeySet, wanted: dict[str, set[int]]) -> Checked:
    name, start, end, first = job
    with Path(name).open("rb") as handle:
        handle.seek(start)
        block = handle.read(end - start)
    verifier = SliceVerifier(keys, wanted)
    for number, raw in enumerate(block.split(b"\n"), start=first):
        line = raw.rstrip(b"\r")
        if line.strip():
            verifier.feed_bytes(line, f"{name}:{number}")
    parts = verifier.parts()
    chains = {part.first.chain for part in parts}
    unreadable = [problem for problem in verifier.report.problems if problem.chain not in chains]
    return parts, unreadable, first + block.count(b"\n") - (1 if block.endswith(b"\n") else 0)


def _init_worker(keys: KeySet, wanted: dict[str, set[int]]) -> None:
    _WORKER["keys"], _WORKER["wanted"] = keys, wanted


def _check_in_worker(job: tuple[str, int, int, int]) -> Checked:
    return _check_slice(job, _WORKER["keys"], _WORKER["wanted"])  # type: ignore[arg-type]


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
    wanted = verifier.wanted
    with multiprocessing.get_context("fork").Pool(count, initializer=_init_worker, initargs=(keys, wanted)) as pool:
        _join_all(verifier, pool.imap(_check_in_worker, jobs), progress)
    return verifier


def _join_all(verifier: ChainVerifier, results: Iterator[Checked], progress: Callable[[int], None]) -> None:
    for parts, unreadable, last in results:  # in file order: imap keeps it
        for part in parts:
            verifier.join(part)
        verifier.report.problems += unreadable
        progress(last)
