"""Profile the gateway service in this process, on the embedded broker, over a backlog of the bench mix.

    python -m bench.profile [--reports 10000] [--sort tottime] [--top 40] [--no-profile] [--dump FILE]

Runs ``GatewayService`` (the consume loop, the processor, the writes, the
commits: everything ``gkt run`` does per batch) under cProfile until it has
decided every report, then prints the decisions a second and the top
functions. With ``--no-profile`` the rate is the unprofiled one, which is the
figure to compare; cProfile's own overhead inflates cheap, often-called
functions. docs/performance.md says how its output was read.
"""

import argparse
import asyncio
import cProfile
import gc
import pstats
import time

from bench import measure
from bench.workload import mixed
from gateway import logs
from gateway.cli.run import _tune_gc
from gateway.demo import samples as s
from gateway.kafka.embedded import EmbeddedBroker
from gateway.kafka.runner import running_gateway
from gateway.metrics import REGISTRY
from gateway.rules_loader import load_rules
from gateway.selection.key import ClientKey
from gateway.settings import Settings
from gateway.signing import Signer


async def profile(bootstrap: str, reports: int, profiler: cProfile.Profile | None) -> tuple[float, float]:
    """Decisions a second, and this process's CPU seconds a decision (the broker's are not in it)."""
    records = mixed(reports)
    prefix = f"p{int(time.time())}."
    settings = Settings(
        bootstrap=bootstrap,
        topic_prefix=prefix,
        reference=s.REFERENCE_FILE,
        allow_test_oins=True,
        log_level="warning",
        http_port=0,
        partitions=measure.PARTITIONS,
        trust_producer_time=True,  # the embedded broker keeps the producer's time (bench/measure.py says why)
    )
    rules = load_rules(settings)
    _tune_gc()
    async with running_gateway(
        settings, rules, Signer.generate("gw-profile"), bootstrap, ClientKey.generate()
    ) as service:
        await measure.preload(bootstrap, f"{prefix}gkt.in.nla", records)
        started, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        while service.decided < reports:
            await asyncio.sleep(0.01)
        if profiler is not None:
            profiler.disable()
        return reports / (time.perf_counter() - started), (time.process_time() - cpu) / reports


def _budget(reports: int) -> str:
    """Seconds summed by gkt_batch_seconds and gkt_stage_seconds, per report."""
    sums = {
        f"{sample.labels.get('phase') or sample.labels.get('stage')}": sample.value
        for metric in REGISTRY.collect()
        if metric.name in ("gkt_batch_seconds", "gkt_stage_seconds")
        for sample in metric.samples
        if sample.name.endswith("_sum") and sample.value
    }
    return ", ".join(f"{name} {seconds / reports * 1e6:,.0f}" for name, seconds in sums.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--sort", default="tottime", help="a pstats sort key: tottime, cumulative, ...")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--no-profile", action="store_true", help="measure the rate only")
    parser.add_argument("--dump", help="also write the raw profile here, for pstats or snakeviz")
    args = parser.parse_args()
    logs.configure("warning")
    profiler = None if args.no_profile else cProfile.Profile()
    with EmbeddedBroker(gate_produce=False) as broker:  # one gateway process: no gate needed
        rate, cpu = asyncio.run(profile(broker.bootstrap, args.reports, profiler))
    gc.collect()
    print(
        f"{args.reports} reports, {rate:,.0f} decisions/s ({1e6 / rate:,.0f} µs each, broker included);"
        f" the gateway's CPU {cpu * 1e6:,.0f} µs a decision"
    )
    print("per decision, from the gateway's own histograms (µs):", _budget(args.reports))
    if profiler is not None:
        if args.dump:
            profiler.dump_stats(args.dump)
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
