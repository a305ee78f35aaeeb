"""Each measurement of `make bench`, on one broker, in one run."""

import asyncio
import gc
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.relay import forward, relay_consumer, relay_producer
from gateway.audit.verify import ChainVerifier
from gateway.demo import samples as s
from gateway.kafka.embedded import free_port
from gateway.keyset import KeySet
from gateway.selection.key import ClientKey
from gateway.signing import Signer

PARTITIONS = 3
SCALE_PARTITIONS = 6  # a multiple of the workers: 3 partitions over 2 processes split the work 2:1
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its live descendants so far, from /proc."""
    total, children = 0.0, {pid}
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # it ended meanwhile
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS)
    grew = True
    while grew:
        before = len(children)
        children |= {p for p, (parent, _) in stats.items() if parent in children}
        grew = len(children) > before
    for p in children:
        if p in stats:
            total += stats[p][1]
    return total


GKT = Path(sys.executable).parent / "gkt"


async def create(bootstrap: str, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])
    finally:
        await admin.close()


async def preload(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=1_048_576)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value, key=str(i % 97).encode(), headers=[("gkt-signature", sig)])
            for i, (value, sig) in enumerate(records)
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def passthrough(bootstrap: str, source: str, target: str, count: int) -> float:
    """The ceiling: bench.relay's loop, batches of 500 consumed, produced, acknowledged, committed."""
    consumer, producer = relay_consumer(bootstrap, source), relay_producer(bootstrap)
    await consumer.start()
    await producer.start()
    done, started = 0, None
    try:
        while done < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            if batches:
                started = started or time.perf_counter()
                done += await forward(consumer, producer, batches, target)
    finally:
        await consumer.stop()
        await producer.stop()
    return count / (time.perf_counter() - (started or time.perf_counter()))


class GatewayProcess:
    """``gkt run`` as a subprocess, watched through its /metrics."""

    def __init__(
        self,
        bootstrap: str,
        prefix: str,
        key_dir: Path,
        signer: Signer | None = None,
        workers: int = 1,
        partitions: int = PARTITIONS,
        env: dict[str, str] | None = None,
    ) -> None:
        signer = signer or Signer.generate("gw-bench-1")
        (key_dir / "gw.pem").write_bytes(signer.private_pem())
        client_key = key_dir / "client.key"
        client_key.write_text(ClientKey.generate().text())
        self.signer = signer
        self.port = free_port()
        env = {
            **os.environ,
            "GKT_SIGNING_KEY": str(key_dir / "gw.pem"),
            "GKT_SIGNING_KID": signer.kid,
            "GKT_CLIENT_KEY_FILE": str(client_key),
            "GKT_LOG_LEVEL": "warning",
            "GKT_SESSION_TIMEOUT_MS": "2000",
            "GKT_HEARTBEAT_INTERVAL_MS": "300",
            "GKT_REFERENCE": str(s.REFERENCE_FILE),
            # The bench's own reports, on the embedded broker, which keeps the producer's time (spec/wire.md):
            # without it every report is TIMESTAMP_UNTRUSTED, and the figures would be of rejections.
            "GKT_TRUST_PRODUCER_TIME": "true",
            "GKT_GROUP_ID": f"{prefix}gateway",
            "GKT_PARTITIONS": str(partitions),
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [
                str(GKT),
                "run",
                "--bootstrap",
                bootstrap,
                "--topic-prefix",
                prefix,
                "--http-port",
                str(self.port),
                "--allow-test-oins",
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as response:
                return response.status, response.read().decode()
        except OSError:
            return 0, ""

    def outcomes(self) -> dict[str, int]:
        """Decisions so far by outcome, from the gateway's own metrics."""
        _, text = self._get("/metrics")
        counts: dict[str, int] = {}
        for outcome, value in re.findall(r'^gkt_decisions_total\{outcome="(\w+)",[^}]*\} (\S+)$', text, re.M):
            counts[outcome] = counts.get(outcome, 0) + int(float(value))
        return counts

    def decided(self) -> int:
        return sum(self.outcomes().values())

    def budget_us(self, decisions: int) -> dict[str, float]:
        """Microseconds a decision in each stage and batch phase (wall time in the gateway's main process, from
        its own ``gkt_stage_seconds`` and ``gkt_batch_seconds``): where a decision's time goes."""
        _, text = self._get("/metrics")
        spent: dict[str, float] = {}
        for name, value in re.findall(r'^gkt_stage_seconds_sum\{stage="(\w+)"[^}]*\} (\S+)$', text, re.M):
            spent[name] = spent.get(name, 0.0) + float(value)
        phases: dict[str, float] = {}
        for name, value in re.findall(r'^gkt_batch_seconds_sum\{phase="(\w+)"[^}]*\} (\S+)$', text, re.M):
            phases[name] = phases.get(name, 0.0) + float(value)
        stages = sum(spent.values())
        # What the decide phase spends beyond the stages: the signal, receipt and audit record, and the loop.
        spent["outputs and audit"] = phases.get("decide", 0.0) - stages
        spent["write"] = phases.get("write", 0.0)
        return {name: round(seconds / max(1, decisions) * 1e6, 1) for name, seconds in spent.items() if seconds > 0}

    def shares(self) -> list[int]:
        """Decisions per worker (``gkt run --workers``: the parent labels each worker's metrics)."""
        _, text = self._get("/metrics")
        per: dict[str, int] = {}
        for worker, value in re.findall(r'^gkt_decisions_total\{[^}]*worker="(\d+)"[^}]*\} (\S+)$', text, re.M):
            per[worker] = per.get(worker, 0) + int(float(value))
        return [per[worker] for worker in sorted(per)]

    async def ready(self) -> None:
        while self._get("/readyz")[0] != 200:
            if self.process.poll() is not None:
                raise RuntimeError("the gateway stopped at start")
            await asyncio.sleep(0.1)

    async def wait_for(self, count: int) -> None:
        while self.decided() < count:
            await asyncio.sleep(0.05)

    def cpu_seconds(self) -> float:
        """CPU used so far by the gateway: with ``--workers``, the parent and every worker."""
        return cpu_seconds(self.process.pid)

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else float("nan")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


async def decision_rate(bootstrap: str, audit_topic: str, decisions: int) -> float:
    """Decisions a second, from the ``decided_at`` of the first and last audit record.

    Taken from the log itself, so it is exact whatever the size of the run. The last batch's
    audit records follow its outputs by up to one idle fetch (docs/architecture.md): wait for them.
    """
    from datetime import datetime

    from gateway.kafka.follower import read_all

    deadline = time.monotonic() + 30
    while True:
        values = [r.value for r in await read_all(bootstrap, audit_topic) if r.value is not None]
        if len(values) >= decisions or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    moments = sorted(datetime.fromisoformat(json.loads(value)["decided_at"]) for value in values)
    if len(moments) < 2:
        return float("nan")
    span = (moments[-1] - moments[0]).total_seconds()
    return (len(moments) - 1) / span if span > 0 else float("nan")


async def _read_to_the_end(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
    """Skip what the topic already holds before the clock starts: reading through a backlog's signals
    would count as the first reports' latency. Read, not sought: tansu answers ListOffsets "latest"
    wrongly, while a fetch's high watermark is right."""
    while True:
        await consumer.getmany(*partitions, timeout_ms=200, max_records=10_000)
        positions = [(await consumer.position(tp), consumer.highwater(tp)) for tp in partitions]
        if all(end is not None and at >= end for at, end in positions):
            return


def _signal_report_id(value: bytes) -> str:
    return str(json.loads(value)["data"]["melding"]["id"])


def _report_id(value: bytes) -> str:
    return str(json.loads(value)["id"])


@dataclass(frozen=True)
class LatencyRun:
    """The end-to-end latencies of one run at a steady rate (or of several pooled), in seconds, sorted."""

    reports: int
    warmup: int
    seconds: list[float]
    to_output: list[float]
    """From the partner's send to the output's CreateTime: when the gateway (or relay) built the record it
    writes. What remains of ``seconds`` is that write and the detection consumer's fetch."""

    @classmethod
    def pooled(cls, runs: "list[LatencyRun]") -> "LatencyRun":
        """Several runs at one rate as one: their percentiles over every report of every run."""
        return cls(
            reports=sum(r.reports for r in runs),
            warmup=sum(r.warmup for r in runs),
            seconds=sorted(s for r in runs for s in r.seconds),
            to_output=sorted(s for r in runs for s in r.to_output),
        )

    def pct_ms(self, q: float, values: list[float] | None = None) -> float:
        seen = self.seconds if values is None else values
        return seen[min(len(seen) - 1, int(q * len(seen)))] * 1000 if seen else float("nan")

    def figures(self) -> dict[str, float]:
        return {
            "reports": self.reports,
            "warmup": self.warmup,
            "received": len(self.seconds),
            "p50_ms": self.pct_ms(0.50),
            "p95_ms": self.pct_ms(0.95),
            "p99_ms": self.pct_ms(0.99),
            "to_output_p50_ms": self.pct_ms(0.50, self.to_output),
            "to_output_p99_ms": self.pct_ms(0.99, self.to_output),
        }


async def latency(
    bootstrap: str,
    inbound: str,
    signals: str,
    rate: int,
    seconds: float,
    relayed: bool = False,
    warmup_seconds: float = 1.0,
) -> "LatencyRun":
    """End to end, partner publish to signal on the detection topic, at a steady rate.

    The first ``warmup_seconds`` of reports are sent at the rate but not timed (first
    metadata fetches, first writes to each topic). ``relayed``: ``signals`` holds the
    reports themselves (the pass-through relay), not signals.
    """
    from datetime import UTC, datetime

    from bench.workload import report

    id_of = _report_id if relayed else _signal_report_id
    total, warmup = int(rate * seconds), int(rate * warmup_seconds)
    # Signed and encoded before the clock starts: the partners' side runs on their machines in the field.
    workload = [report("routed", datetime.now(UTC)) for _ in range(warmup + total)]
    ids = [json.loads(value)["id"] for value, _ in workload]
    gc.collect()
    gc.freeze()  # this process holds the whole workload: a collection over it would pause the clock
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=5
    )
    await consumer.start()
    partitions = [TopicPartition(signals, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    await _read_to_the_end(consumer, partitions)
    sent: dict[str, float] = {}
    sent_wall: dict[str, float] = {}  # the output's CreateTime is wall-clock milliseconds
    seen: list[float] = []
    handed: list[float] = []
    stop = asyncio.Event()

    async def consume() -> None:
        while not stop.is_set() or len(seen) < len(sent):
            batches = await consumer.getmany(timeout_ms=50)
            arrived = time.perf_counter()
            for records in batches.values():
                for record in records:
                    event_id = id_of(record.value)
                    if event_id in sent:
                        seen.append(arrived - sent[event_id])
                        handed.append(record.timestamp / 1000 - sent_wall[event_id])
            if stop.is_set() and time.perf_counter() > deadline:
                break

    deadline = float("inf")
    task = asyncio.create_task(consume())

    def timed(i: int) -> None:
        if i >= warmup:
            sent[ids[i]], sent_wall[ids[i]] = time.perf_counter(), time.time()

    await _publish_at(bootstrap, inbound, workload, rate, timed)
    deadline = time.perf_counter() + 30
    stop.set()
    await task
    await consumer.stop()
    return LatencyRun(reports=total, warmup=warmup, seconds=sorted(seen), to_output=sorted(handed))


async def _publish_at(
    bootstrap: str, topic: str, workload: list[tuple[bytes, bytes]], rate: int, sending: Callable[[int], None]
) -> None:
    """Each report of ``workload`` at its moment at ``rate`` a second, as a partner's client would send it
    (one at a time, no linger), ``sending`` told of each just before.

    librdkafka (C, a thread of its own) sends them: here the partners' side shares the gateway's two cores,
    and built and sent in Python (aiokafka) it took 0.45 of a core at 1,500 /s, so that a saturated machine,
    not the gateway, set the p99 (docs/performance.md).
    """
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 0,
            "acks": "all",
            "partitioner": "murmur2_random",
            "max.in.flight.requests.per.connection": 1,
        }
    )
    failed: list[str] = []

    def delivered(error: object, _message: object) -> None:
        if error is not None:
            failed.append(str(error))

    start = time.perf_counter()
    for i, (value, sig) in enumerate(workload):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        sending(i)
        producer.produce(
            topic, value, key=str(i % 97).encode(), headers=[("gkt-signature", sig)], on_delivery=delivered
        )
        producer.poll(0)
    while producer.flush(0.05):  # without holding the loop: the consumer reads meanwhile
        await asyncio.sleep(0.01)
    if failed:
        raise RuntimeError(f"the load generator could not send: {failed[0]}")


async def scale_out(
    bootstrap: str,
    prefix: str,
    records: list[tuple[bytes, bytes]],
    broker_pid: int | None,
    processes: int = 2,
    crypto_helper: bool | None = None,
) -> dict[str, Any]:
    """``gkt run --workers N`` in one consumer group over a topic of SCALE_PARTITIONS partitions.

    With the CPU it used: the processes, their crypto helpers and the broker share this
    machine's cores, which bounds the ratio between runs more than the gateway does.
    ``crypto_helper``: GKT_CRYPTO_HELPER for the run (None: the default for N processes).
    """
    from gateway.kafka.follower import read_all

    signer = Signer.generate("gw-bench-1")
    env = {} if crypto_helper is None else {"GKT_CRYPTO_HELPER": str(crypto_helper).lower()}
    gateway = GatewayProcess(
        bootstrap, prefix, scratch(), signer, workers=processes, partitions=SCALE_PARTITIONS, env=env
    )
    try:
        await gateway.ready()  # ready when every worker is: the partitions are spread over them
        await asyncio.sleep(2)
        cpu = Cpu(gateway, broker_pid)
        await preload(bootstrap, f"{prefix}gkt.in.nla", records)
        while gateway.decided() < len(records):
            await asyncio.sleep(0.05)
        used = cpu.used()
        rate = await decision_rate(bootstrap, f"{prefix}gkt.audit", len(records))
        shares = gateway.shares() if processes > 1 else [len(records)]
    finally:
        gateway.stop()
    audit = [json.loads(r.value) for r in await read_all(bootstrap, f"{prefix}gkt.audit") if r.value is not None]
    verifier = ChainVerifier(KeySet.of(signer))
    for record in audit:
        verifier.feed(record)
    return {
        "processes": processes,
        "crypto_helper": "default" if crypto_helper is None else crypto_helper,
        "partitions": SCALE_PARTITIONS,
        "per_s": round(rate),
        "per_process": shares,
        "cpu": used,
        "exactly_one_decision_per_record": _exactly_once(audit, len(records)),
        "audit_verified": verifier.finish().ok,
    }


async def exactly_once(bootstrap: str, audit_topic: str, sent: int) -> bool:
    """Whether the audit log holds exactly one decision for each of the ``sent`` inbound records."""
    from gateway.kafka.follower import read_all

    return _exactly_once([json.loads(r.value) for r in await read_all(bootstrap, audit_topic) if r.value], sent)


def _exactly_once(audit: list[dict[str, Any]], sent: int) -> bool:
    positions = {(a["inbound"]["topic"], a["inbound"]["partition"], a["inbound"]["offset"]) for a in audit}
    return len(audit) == len(positions) == sent


async def verify_throughput(
    bootstrap: str, audit_topic: str, signer: Signer, workers: int | None = None
) -> tuple[float, int, bool, float]:
    """``gkt audit verify --file``'s work over an export of every audit record: parallel over chains with
    ``workers`` processes (default one per core), each hash checked from the record's bytes; and its floor
    in the same run: the same export read in the same slices by as many processes, every line hashed.
    Both in a process of their own, as an auditor's (``bench.verify_rate`` says why)."""
    from gateway.kafka.follower import read_all

    raw = [r.value for r in await read_all(bootstrap, audit_topic) if r.value is not None]
    folder = scratch()
    export, key = folder / "audit.jsonl", folder / "gateway.pem"
    export.write_bytes(b"\n".join(raw) + b"\n")
    key.write_bytes(signer.private_pem())
    count = ["--workers", str(workers)] if workers is not None else []
    command = [sys.executable, "-m", "bench.verify_rate", str(export), str(key), str(signer.kid), *count]
    child = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE, cwd=Path(__file__).parents[1])
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"bench.verify_rate failed (exit {child.returncode})")
    figures = json.loads(out)
    ok = bool(figures["verified"]) and figures["records"] == len(raw)
    return float(figures["per_s"]), len(raw), ok, float(figures["hash_floor_per_s"])


async def passthrough_latency(bootstrap: str, prefix: str, rate: int, seconds: float) -> LatencyRun:
    """The reference for the latency figures: ``bench.relay`` in a process of its own, at the same rate."""
    source, target = f"{prefix}relay.in", f"{prefix}relay.out"
    await create(bootstrap, source, target)
    relay = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.relay", bootstrap, source, target, cwd=Path(__file__).parents[1]
    )
    try:
        await asyncio.sleep(3)  # the relay joins its group (session timeout 2 s)
        return await latency(bootstrap, source, target, rate, seconds, relayed=True)
    finally:
        relay.send_signal(signal.SIGTERM)
        await asyncio.wait_for(relay.wait(), timeout=30)


class Cpu:
    """Cores used by the gateway and the broker from now on: CPU seconds over wall seconds."""

    def __init__(self, gateway: GatewayProcess, broker_pid: int | None) -> None:
        self._gateway, self._broker_pid = gateway, broker_pid
        self._started = time.perf_counter()
        self._gateway_cpu = gateway.cpu_seconds()
        self._broker_cpu = cpu_seconds(broker_pid) if broker_pid else 0.0

    def used(self) -> dict[str, Any]:
        """``broker_cores`` is None for a broker that is not a process of this machine's (``--bootstrap``)."""
        wall = time.perf_counter() - self._started
        gateway = self._gateway.cpu_seconds() - self._gateway_cpu
        broker = (cpu_seconds(self._broker_pid) - self._broker_cpu) if self._broker_pid else None
        return {
            "seconds": round(wall, 2),
            "gateway_cores": round(gateway / wall, 2),
            "broker_cores": round(broker / wall, 2) if broker is not None else None,
            "gateway_cpu_s": round(gateway, 2),
        }


def cores(cpu: dict[str, Any]) -> str:
    """The gateway's cores, and the broker's where it was measured."""
    broker = cpu["broker_cores"]
    return f"{cpu['gateway_cores']} + broker {broker} cores" if broker is not None else f"{cpu['gateway_cores']} cores"


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="gkt-bench-"))


def as_json(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2)
