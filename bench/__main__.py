"""`make bench`: the gateway against a bare aiokafka pass-through, in one run on the embedded broker.

    python -m bench [--reports 50000] [--rate 1000] [--latency-seconds 10] [--out bench/results.json]

Prints a table and writes JSON. Figures are ratios against the pass-through
measured in the same run, so that they mean the same on any machine.
"""

import argparse
import asyncio
import platform
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import measure
from bench.workload import MIX, mixed
from gateway.kafka.embedded import EmbeddedBroker

TARGETS = {"throughput_ratio": 0.25, "p99_ms": 50.0, "verify_per_s": 100_000, "peak_rss_mb": 300.0}


async def run(bootstrap: str, reports: int, rate: int, latency_seconds: float) -> dict[str, Any]:
    records = mixed(reports)
    prefix = f"b{int(time.time())}."
    await measure.create(bootstrap, f"{prefix}pass.in", f"{prefix}pass.out")
    await measure.preload(bootstrap, f"{prefix}pass.in", records)
    ceiling = await measure.passthrough(bootstrap, f"{prefix}pass.in", f"{prefix}pass.out", len(records))

    gateway = measure.GatewayProcess(bootstrap, prefix, measure.scratch())
    try:
        await gateway.ready()
        await measure.preload(bootstrap, f"{prefix}gkt.in.nla", records)
        await gateway.wait_for(len(records))
        throughput = await measure.decision_rate(bootstrap, f"{prefix}gkt.audit")
        outcomes = gateway.outcomes()
        rss = gateway.peak_rss_mb()
        latency = await measure.latency(
            bootstrap, f"{prefix}gkt.in.nla", f"{prefix}bd.detectie.mkb", rate, latency_seconds
        )
    finally:
        gateway.stop()
    verify_rate, audit_records, verified = await measure.verify_throughput(
        bootstrap, f"{prefix}gkt.audit", gateway.signer
    )
    verify_single, _, single_verified = await measure.verify_throughput(
        bootstrap, f"{prefix}gkt.audit", gateway.signer, workers=1
    )
    scale = await measure.scale_out(bootstrap, f"{prefix}x2.", records)
    return {
        "machine": {"python": platform.python_version(), "cpus": platform.machine(), "broker": "tansu (embedded)"},
        "workload": {
            "reports": reports,
            "mix": MIX,
            "bytes_per_report": sum(len(v) for v, _ in records) // reports,
            "outcomes": outcomes,
        },
        "passthrough_per_s": round(ceiling),
        "gateway_per_s": round(throughput),
        "throughput_ratio": round(throughput / ceiling, 3),
        "latency": {"rate_per_s": rate, **{k: round(v, 1) for k, v in latency.items()}},
        "verify_per_s": round(verify_rate),
        "verify_one_process_per_s": round(verify_single),
        "verify_records": audit_records,
        "audit_verified": verified and single_verified,
        "peak_rss_mb": round(rss, 1),
        "scale_out": {**scale, "ratio_to_passthrough": round(scale["per_s"] / ceiling, 3)},
        "targets": TARGETS,
    }


def table(results: dict[str, Any]) -> Table:
    t = Table(title=f"gkt bench: {results['workload']['reports']} reports ({results['workload']['mix']})")
    for column in ("measure", "value", "target", "met"):
        t.add_column(column)

    def row(name: str, value: float, unit: str, target: float, higher_is_better: bool = True) -> None:
        met = value >= target if higher_is_better else value <= target
        t.add_row(
            name,
            f"{value:,.3g} {unit}" if value < 10 else f"{value:,.0f} {unit}",
            f"{'≥' if higher_is_better else '≤'} {target:,g} {unit}",
            "yes" if met else "NO",
        )

    t.add_row("pass-through (ceiling)", f"{results['passthrough_per_s']:,} /s", "", "")
    t.add_row("gateway", f"{results['gateway_per_s']:,} /s", "", "")
    row("gateway / pass-through", results["throughput_ratio"], "×", TARGETS["throughput_ratio"])
    latency = results["latency"]
    t.add_row(
        f"latency p50 / p95 at {latency['rate_per_s']}/s", f"{latency['p50_ms']} / {latency['p95_ms']} ms", "", ""
    )
    row("latency p99", latency["p99_ms"], "ms", TARGETS["p99_ms"], higher_is_better=False)
    row("audit verify", results["verify_per_s"], "/s", TARGETS["verify_per_s"])
    row("gateway peak RSS", results["peak_rss_mb"], "MB", TARGETS["peak_rss_mb"], higher_is_better=False)
    scale = results["scale_out"]
    once = "exactly one decision each" if scale["exactly_one_decision_per_record"] else "DECISIONS LOST OR REPEATED"
    t.add_row("2 gateway processes, one group", f"{scale['per_s']:,} /s ({scale['ratio_to_passthrough']} ×)", "", once)
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--rate", type=int, default=1000, help="reports a second for the latency measure")
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("bench/results.json"))
    args = parser.parse_args()
    with EmbeddedBroker() as broker:
        results = asyncio.run(run(broker.bootstrap, args.reports, args.rate, args.latency_seconds))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(measure.as_json(results) + "\n")
    Console(width=120).print(table(results))
    print(measure.as_json(results))


if __name__ == "__main__":
    main()
