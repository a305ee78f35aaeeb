"""The floors the gateway's figures are judged against, each measured in the same run on the same machine.

- **signature floor**: what a routed report costs at the very least: one Ed25519
  verification of the partner's detached JWS and the two signatures of what it
  writes (the signal and the partner's receipt), through the very functions the
  gateway calls (``gateway.signing``, on ``cryptography``). CPU per decision is
  judged as a multiple of it.
- **hash floor**: what ``gkt audit verify --file`` costs at the very least: the
  export read in the same slices by the same number of processes, and every
  line hashed (SHA-256), nothing parsed.

Each is the best of a few repetitions: a floor is what the machine can do, not
what it did while something else ran.
"""

import hashlib
import multiprocessing
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.workload import report
from gateway.audit.parallel import read_slice, slices
from gateway.demo import samples as s
from gateway.signing import Signer, read_protected_header, verify_detached


def signature_floor_us(count: int = 2_000, repetitions: int = 3) -> float:
    """Microseconds of one partner-signature verification and two gateway signatures, best of ``repetitions``."""
    value, token = report("routed", datetime.now(UTC))
    text = token.decode("ascii")
    key = s.partner_key(read_protected_header(text).kid)
    signer = Signer.generate("gw-floor")
    receipt = value[:300]  # a receipt is a few hundred bytes; the signal about the report's size
    best = float("inf")
    for _ in range(repetitions):
        started = time.process_time()
        for _ in range(count):
            if not verify_detached(text, value, key, "EdDSA"):
                raise SystemExit("the floor's own report does not verify: no result")
            signer.sign(value)
            signer.sign(receipt)
        best = min(best, (time.process_time() - started) / count)
    return best * 1e6


def _hash_slice(job: tuple[str, int, int]) -> int:
    lines = 0
    for line in read_slice(*job).split(b"\n"):
        if line:
            hashlib.sha256(line).digest()
            lines += 1
    return lines


def hash_floor_per_s(path: Path, workers: int | None = None, repetitions: int = 3) -> float:
    """Lines a second of reading ``path`` in verify's slices with ``workers`` processes and hashing each line."""
    count = max(1, workers or os.cpu_count() or 1)
    jobs = [(str(path), start, end) for start, end in slices(path)]
    best = 0.0
    for _ in range(repetitions):
        started = time.perf_counter()
        if count == 1:
            lines = sum(_hash_slice(job) for job in jobs)
        else:
            with multiprocessing.get_context("fork").Pool(count) as pool:
                lines = sum(pool.imap(_hash_slice, jobs))
        best = max(best, lines / (time.perf_counter() - started))
    return best
