"""``gkt run``: the service with health endpoints, signal handling and the embedded default."""

import asyncio
import signal

import structlog

from gateway import logs
from gateway.errors import GatewayError
from gateway.http import HttpServer
from gateway.kafka.embedded import bootstrap_or_embedded
from gateway.kafka.service import GatewayService
from gateway.pipeline import Rules
from gateway.rules_loader import load_rules, load_signer
from gateway.settings import Settings
from gateway.signing import Signer

log = structlog.get_logger("gkt.run")


def run_service(settings: Settings) -> None:
    logs.configure(settings.log_level)
    rules = load_rules(settings)  # fails at start, naming file and field
    if settings.signing_key is None and not settings.bootstrap:
        # Developer mode on the embedded broker: an ephemeral key, said out loud.
        signer = Signer.generate("gkt-dev-ephemeral")
        log.warning("ephemeral_signing_key", kid=signer.kid, reason="no GKT_SIGNING_KEY; embedded broker")
    else:
        signer = load_signer(settings)
    with bootstrap_or_embedded(settings.bootstrap) as bootstrap:
        log.info("starting", bootstrap=bootstrap, partners=rules.agreements.partners())
        asyncio.run(_serve(settings, rules, signer, bootstrap))


async def _serve(settings: Settings, rules: Rules, signer: Signer, bootstrap: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    service = GatewayService(settings, rules, signer, bootstrap)
    http = HttpServer(service.ready, settings.http_port) if settings.http_port else None
    if http is not None:
        await http.start()
    try:
        await service.run(stop)
    except GatewayError as exc:
        # The last line of the log says why the process ends; a supervisor restarts it.
        log.error("exiting", reason=str(exc), exit_code=1)
        raise
    finally:
        if http is not None:
            await http.stop()
        log.info("stopped", decided=service.decided)
