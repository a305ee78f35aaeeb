"""``gkt audit verify --file``'s rate and its floor, measured in a process of their own.

    python -m bench.verify_rate EXPORT KEY.pem KID [--workers N]

Prints one JSON object: records a second (best of three), whether the export
verified with every record counted, and the hash floor (the same export read
in the same slices by as many processes, every line hashed: bench/floors.py).

Why a process of its own: verify forks its workers, and the bench's own
process holds the whole workload and the measurements when it gets there.
Forking it (page tables, and copy-on-write of what the children touch) cost
verify 15-20 % on this machine; an auditor's ``gkt audit verify`` is a small
process, and so is this one.
"""

import argparse
import json
import time
from pathlib import Path

from bench.floors import hash_floor_per_s
from gateway.audit.parallel import verify_export
from gateway.audit.sources import line_count
from gateway.keyset import KeySet
from gateway.signing import Signer


def measure(export: Path, keys: KeySet, workers: int | None, repetitions: int = 3) -> dict[str, object]:
    records = line_count(export)
    best, ok = 0.0, True
    for _ in range(repetitions):  # the best, as the floor: a rate is what the machine can do
        started = time.perf_counter()
        report = verify_export(export, keys, workers).finish()
        best = max(best, records / (time.perf_counter() - started))
        ok = ok and report.ok and report.records == records
    return {"per_s": best, "records": records, "verified": ok, "hash_floor_per_s": hash_floor_per_s(export, workers)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export", type=Path)
    parser.add_argument("key", type=Path, help="the gateway's private key (PEM) the log was signed with")
    parser.add_argument("kid")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args()
    keys = KeySet.of(Signer.from_pem_file(args.key, args.kid))
    print(json.dumps(measure(args.export, keys, args.workers)))


if __name__ == "__main__":
    main()
