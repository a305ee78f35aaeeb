"""`python -m bench.report`: how long `gkt report --file` takes on a large export, and its peak memory.

    python -m bench.report [--records 1000000] [--out FILE]

Makes an export of ``--records`` audit records that verifies: the bench's usual
mix decided in-process (Processor with a client memory), copied with fresh
ids over three inbound chains, quarantines closed by verdicts and one
feedback step for every fifth signal, each record re-chained and sealed, a
checkpoint signature every 500 records of a chain. Then runs
``gkt report --file … --json`` on it as a process and prints its wall time and
peak resident memory, and the export's size (docs/performance.md).
"""

import argparse
import json
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.rebuild import sample_audit
from gateway.audit.record import ChainHead, seal, sign_checkpoint
from gateway.keyset import KeySet
from gateway.selection.key import ClientKey
from gateway.signing import Signer
from gateway.types import ChainId

CHAINS = 3
CHECKPOINT_EVERY = 500
GKT = Path(sys.executable).parent / "gkt"


def records(sample: list[dict[str, Any]], count: int, start: datetime) -> Iterator[dict[str, Any]]:
    """``count`` bodies (unsealed) like ``sample``'s, spread over a year, with feedback on some signals."""
    step = timedelta(days=365) / count
    signals: list[tuple[str, datetime]] = []  # the last hundred signals written: steps are about these
    for n in range(count):
        at = start + n * step
        if n % 10 == 9 and signals:  # every tenth record: a step on a recent signal
            signal_id, received = signals[-1]
            yield feedback(signal_id, received, at, n)
            continue
        body = {k: v for k, v in sample[n % len(sample)].items() if k not in ("hash", "sig", "prev", "seq")}
        chain = f"gkt.in.nla/{n % CHAINS}"
        body["chain"] = chain
        body["inbound"] = {**body["inbound"], "partition": n % CHAINS, "offset": n, "timestamp": _iso(at)}
        body["event"] = {**body["event"], "id": str(uuid.uuid4())}
        destination = body.get("destination")
        if destination and destination.get("signal_id"):
            body["destination"] = {**destination, "signal_id": str(uuid.uuid4())}
            signals.append((body["destination"]["signal_id"], at))
            del signals[:-100]
        yield body


def feedback(signal_id: str, received: datetime, at: datetime, n: int) -> dict[str, Any]:
    on = max(received, at).date().isoformat()
    return {
        "chain": "bd.terugkoppeling/0",
        "decided_at": _iso(at),
        "inbound": {
            "topic": "bd.terugkoppeling",
            "partition": 0,
            "offset": n,
            "timestamp": _iso(at),
            "timestamp_type": "LogAppendTime",
        },
        "event": {
            "id": None,
            "source": None,
            "type": None,
            "dataschema": None,
            "digest": "sha256:" + "0" * 64,
            "kid": "mkb-oost-2025",
        },
        "outcome": "recorded",
        "reasons": [],
        "original": None,
        "destination": None,
        "versions": {
            "gateway": "bench",
            "contract": None,
            "agreement": None,
            "policy": None,
            "reference": None,
            "teams": None,
        },
        "feedback": {
            "signal_id": signal_id,
            "status": "geselecteerd",
            "op": on,
            "team": "mkb-oost",
            "partner": "nla",
        },
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_export(path: Path, count: int, signer: Signer) -> None:
    """The export: every chain linked, sealed and signed at checkpoints, as the gateway writes it."""
    sample = sample_audit(ClientKey.generate())
    heads: dict[str, ChainHead] = {}
    pending: dict[str, list[Any]] = {}
    with path.open("wb") as out:
        for body in records(sample, count, datetime(2026, 1, 1, tzinfo=UTC)):
            chain = body["chain"]
            head = heads.get(chain) or ChainHead.empty(ChainId(chain))
            body["seq"], body["prev"] = head.seq + 1, head.hash
            sealed = seal(body)  # type: ignore[arg-type]
            heads[chain] = head.next(sealed.record)
            batch = pending.setdefault(chain, [])
            batch.append(sealed)
            if len(batch) == CHECKPOINT_EVERY:
                _flush(out, batch, signer)
        for batch in pending.values():
            _flush(out, batch, signer)


def _flush(out: Any, batch: list[Any], signer: Signer) -> None:
    if batch:
        sign_checkpoint(batch[-1].record, signer)
        out.writelines(sealed.encoded() + b"\n" for sealed in batch)
        batch.clear()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/report-export.jsonl"))
    options = parser.parse_args()
    signer = Signer.generate("gw-bench")
    started = time.perf_counter()
    write_export(options.out, options.records, signer)
    made = time.perf_counter() - started
    keys = options.out.with_suffix(".keys.json")
    keys.write_text(json.dumps(KeySet.of(signer).as_jwks()))
    command = [
        str(GKT),
        "report",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--by",
        "quarter",
        "--file",
        str(options.out),
        "--keys",
        str(keys),
        "--json",
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"gkt report failed ({result.returncode}): {result.stderr[-2000:]}")
    figures = json.loads(result.stdout)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    results = {
        "audit_records": figures["records"],
        "export_mb": round(options.out.stat().st_size / 1_048_576),
        "export_made_s": round(made, 1),
        "report_s": round(seconds, 1),
        "report_records_per_s": round(figures["records"] / seconds),
        "report_peak_rss_mb": round(peak_mb),
        "feedback_rows": len(figures["tables"]["feedback"]["rows"]),
    }
    print(json.dumps(results, indent=2))
    print(
        f"gkt report --file on {figures['records']:,} audit records ({results['export_mb']} MB): "
        f"{seconds:.1f} s, peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
