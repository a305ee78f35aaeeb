"""``gkt run --workers N``: N gateway processes in one consumer group, started and stopped together.

Like a web server's workers: the parent resolves the settings once, starts N
``gkt run`` children with them (each its own process, so each its own core),
serves ``/healthz``, ``/readyz`` and ``/metrics`` for the whole on the
configured port, restarts a child that dies, and on SIGTERM stops them all and
waits. Correctness needs nothing from the parent: the children share the
consumer group, each partition has one owner and one audit chain, and a child
killed at any moment loses and repeats nothing (G1).
"""

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from contracts.jsonio import dumps
from gateway.cli.stopping import Stop
from gateway.errors import GatewayError
from gateway.http import HttpServer
from gateway.kafka.embedded import free_port
from gateway.rules_loader import load_keyset
from gateway.selection.key import ClientKey
from gateway.settings import Settings, crypto_helper_for
from gateway.signing import Signer

log = structlog.get_logger("gkt.workers")
RESTART_DELAY_SECONDS = 2.0
STOP_SECONDS = 30.0


@dataclass
class Worker:
    index: int
    port: int
    process: asyncio.subprocess.Process | None = None
    ready: bool = False
    restarts: int = 0
    metrics: bytes = b""
    env: dict[str, str] = field(default_factory=dict)


def child_env(settings: Settings, bootstrap: str, signing_key: Path, http_port: int) -> dict[str, str]:
    """The parent's resolved settings as ``GKT_*`` variables: every child runs with exactly them."""
    # Settings come only from the parent's resolved ones (flags, environment and --config alike).
    env = {name: value for name, value in os.environ.items() if not name.startswith("GKT_")}
    for name, setting in settings.model_dump().items():
        if setting is None:
            continue
        value = setting.get_secret_value() if isinstance(setting, SecretStr) else setting
        env[f"GKT_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    env |= {"GKT_BOOTSTRAP": bootstrap, "GKT_SIGNING_KEY": str(signing_key), "GKT_HTTP_PORT": str(http_port)}
    return env


def _fetch(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status, response.read()
    except OSError:  # HTTPError (a 503) is one too: not ready
        return 503, b""


class _Labelled:
    """Every worker's metrics in one exposition, each sample labelled ``worker``."""

    def __init__(self, workers: Iterable[Worker]) -> None:
        self._workers = list(workers)

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for worker in self._workers:
            for family in text_string_to_metric_families(worker.metrics.decode("utf-8", "replace")):
                into = merged.setdefault(family.name, Metric(family.name, family.documentation, family.type))
                for sample in family.samples:
                    labels = {**sample.labels, "worker": str(worker.index)}
                    into.add_sample(sample.name, labels, sample.value, sample.timestamp)
        yield from merged.values()


class Supervisor:
    def __init__(self, settings: Settings, count: int, bootstrap: str, signing_key: Path) -> None:
        self.settings = settings
        self.workers = [Worker(i, free_port()) for i in range(count)]
        for worker in self.workers:
            worker.env = child_env(settings, bootstrap, signing_key, worker.port)
        self.stopping = False

    def ready(self) -> bool:
        return all(worker.ready for worker in self.workers)

    async def metrics(self) -> bytes:
        """Every worker's metrics, fetched when asked (a scrape), not polled: the workers' cores are for work."""
        for worker in self.workers:
            status, body = await asyncio.to_thread(_fetch, worker.port, "/metrics")
            worker.metrics = body if status == 200 else b""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Labelled(self.workers))
        return generate_latest(registry)

    async def _start(self, worker: Worker) -> None:
        command = [sys.executable, "-c", "from gateway.cli.app import main; main()", "run"]
        worker.process = await asyncio.create_subprocess_exec(*command, env=worker.env)
        worker.ready = False
        log.info("worker_started", worker=worker.index, pid=worker.process.pid)

    async def run(self, stop: asyncio.Event) -> None:
        for worker in self.workers:
            await self._start(worker)
        while not stop.is_set():
            for worker in self.workers:
                await self._watch(worker)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
        await self._stop_all()

    async def _watch(self, worker: Worker) -> None:
        process = worker.process
        assert process is not None
        if process.returncode is not None:
            worker.ready = False
            worker.restarts += 1
            log.error("worker_exited", worker=worker.index, exit_code=process.returncode, restarts=worker.restarts)
            await asyncio.sleep(RESTART_DELAY_SECONDS)
            await self._start(worker)
            return
        status, _ = await asyncio.to_thread(_fetch, worker.port, "/readyz")
        worker.ready = status == 200

    async def _stop_all(self) -> None:
        running = [w.process for w in self.workers if w.process is not None and w.process.returncode is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_SECONDS):
                codes = [await process.wait() for process in running]
        except TimeoutError:
            for process in running:
                if process.returncode is None:
                    process.kill()
            raise GatewayError(f"workers did not stop within {STOP_SECONDS:g} s; killed") from None
        log.info("workers_stopped", exit_codes=codes)


def run_workers(
    settings: Settings, count: int, bootstrap: str, signer: Signer | None, client_key: ClientKey
) -> tuple[Stop, Exception | None]:
    """Start ``count`` workers on ``bootstrap`` and supervise them until SIGTERM or Ctrl-C.

    ``signer``: the key of ``signing_key``, loaded and checked by the caller; None only on the embedded broker.
    ``client_key``: the caller's (``client_key_for``): the file's, or one made for this run on the embedded broker.
    """
    with tempfile.TemporaryDirectory(prefix="gkt-workers-") as scratch:
        key = settings.signing_key
        if key is None or signer is None:
            # Development on the embedded broker only (run_service refuses it otherwise): one ephemeral key
            # for all workers, so that every record the group writes verifies with one key.
            signer = Signer.generate(settings.signing_kid)
            key = Path(scratch) / "ephemeral.pem"
            key.write_bytes(signer.private_pem())
            log.warning("ephemeral_signing_key", kid=settings.signing_kid, reason="no GKT_SIGNING_KEY; embedded broker")
        if settings.client_key_file is None:
            # As the signing key: the one ephemeral client key for all workers, or each would know clients apart.
            ephemeral = Path(scratch) / "ephemeral-client.key"
            ephemeral.write_text(client_key.text())
            settings = settings.model_copy(update={"client_key_file": ephemeral})
        # Each worker has a crypto helper only when the machine has cores beyond the workers.
        settings = settings.model_copy(update={"crypto_helper": crypto_helper_for(settings, processes=count)})
        jwks = dumps(load_keyset(settings, signer).as_jwks())  # what /.well-known/jwks.json serves
        return asyncio.run(_serve(Supervisor(settings, count, bootstrap, key), jwks))


async def _serve(supervisor: Supervisor, jwks: bytes) -> tuple[Stop, Exception | None]:
    stop = Stop().install()
    failure: Exception | None = None
    port = supervisor.settings.http_port
    http = HttpServer(supervisor.ready, port, metrics=supervisor.metrics, jwks=jwks) if port else None
    try:
        if http is not None:
            await http.start()
        log.info("workers_starting", workers=len(supervisor.workers), http_port=port or None)
        await supervisor.run(stop.event)
    except Exception as exc:  # every failure ends in the exiting line (gateway/cli/stopping.py)
        failure = exc
    finally:
        if http is not None:
            await http.stop()
    return stop, failure
