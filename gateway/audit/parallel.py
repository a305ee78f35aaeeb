"""``gkt audit verify --file`` over several processes: chains are independent (spec/audit.md, "may check
them in parallel"), so each worker checks whole chains, each in log order, and the reports are merged.

Every worker reads the export itself and keeps the records of the chains it owns
(``crc32(chain) % workers``); the chain id is at the very start of each record's
bytes (``{"chain":"…"``; anything else is parsed strictly to find it). No record
crosses a process boundary, and no worker holds more than one record at a time.
"""

import multiprocessing
import os
import queue
import re
import zlib
from collections.abc import Callable
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from contracts.jsonio import strict_loads
from gateway.audit.sources import export_lines
from gateway.audit.verify import ChainVerifier, VerifyReport
from gateway.keyset import KeySet

_CHAIN = re.compile(rb'\{"chain":"([A-Za-z0-9._/-]{1,300})"')
_PROGRESS_EVERY = 5_000


def chain_of(raw: bytes) -> bytes | None:
    """The record's chain id, or None when the bytes are no audit record at all."""
    match = _CHAIN.match(raw)
    if match is not None:
        return match.group(1)
    try:
        record = strict_loads(raw)
    except ValueError:
        return None
    return str(record.get("chain")).encode() if isinstance(record, dict) else None


def _check_share(
    path: Path, keys: KeySet, share: int, workers: int, done: "Synchronized[int]", outbox: "Queue[Any]"
) -> None:
    verifier = ChainVerifier(keys)
    seen = 0
    for number, raw in export_lines(path):
        chain = chain_of(raw)
        if chain is None:
            if share == 0:  # reported once, by one worker
                verifier.unparsable(f"{path}:{number}")
        elif zlib.crc32(chain) % workers == share:
            verifier.feed_bytes(raw, f"{path}:{number}")
        seen += 1
        if seen == _PROGRESS_EVERY:
            with done.get_lock():
                done.value += seen
            seen = 0
    with done.get_lock():
        done.value += seen
    outbox.put((verifier.report, verifier.decided))


def verify_export(
    path: Path, keys: KeySet, workers: int | None = None, progress: Callable[[int], None] = lambda _: None
) -> ChainVerifier:
    """Check every chain of the export ``path``; ``progress`` hears how many lines all workers have passed
    (divided by the number of workers: each reads every line). Returns the merged verifier, not yet finished."""
    count = max(1, workers or os.cpu_count() or 1)
    merged = ChainVerifier(keys)
    if count == 1:
        for number, raw in export_lines(path):
            merged.feed_bytes(raw, f"{path}:{number}")
            progress(number)
        return merged
    context = multiprocessing.get_context("fork")  # the workers inherit the keys: key objects do not pickle
    done = context.Value("q", 0)
    outbox: Queue[Any] = context.Queue()
    processes = [
        context.Process(target=_check_share, args=(path, keys, share, count, done, outbox), daemon=True)
        for share in range(count)
    ]
    for process in processes:
        process.start()
    reports: list[tuple[VerifyReport, dict[str, set[int]]]] = []
    while len(reports) < count:
        try:
            reports.append(outbox.get(timeout=0.2))
        except queue.Empty:  # nothing yet: say how far the workers are
            progress(done.value // count)
            if any(p.exitcode not in (None, 0) for p in processes):
                raise RuntimeError("a verify worker stopped unexpectedly") from None
    for process in processes:
        process.join()
    for report, decided in reports:
        _merge(merged.report, report)
        for chain, offsets in decided.items():
            merged.decided.setdefault(chain, set()).update(offsets)
    progress(done.value // count)
    return merged


def _merge(into: VerifyReport, part: VerifyReport) -> None:
    into.chains.update(part.chains)  # each chain was checked by one worker only
    for outcome, count in part.outcomes.items():
        into.outcomes[outcome] = into.outcomes.get(outcome, 0) + count
    into.problems += part.problems
