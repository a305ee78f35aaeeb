"""``gkt run``: the service with health endpoints, signal handling and the embedded default."""

import asyncio
import gc
from datetime import UTC, datetime

import structlog
import typer

from contracts.jsonio import dumps
from gateway import logs
from gateway.cli.stopping import Stop, exiting
from gateway.http import HttpServer
from gateway.kafka.embedded import bootstrap_or_embedded
from gateway.kafka.service import GatewayService
from gateway.pipeline import Rules
from gateway.rules_loader import folders, load_client_key, load_keyset, load_rules, load_signer
from gateway.selection.key import ClientKey
from gateway.settings import Settings
from gateway.signing import Signer
from validators.identifiers import is_test_oin

log = structlog.get_logger("gkt.run")


def run_service(settings: Settings, workers: int = 1) -> None:
    """The service in this process, or (``workers`` > 1) that many processes supervised by this one."""
    logs.configure(settings.log_level)
    settings = embedded_defaults(settings)
    rules = load_rules(settings)  # fails at start, naming file and field
    if workers > 1:
        from gateway.cli.workers import run_workers

        # A wrong key stops the parent at start, not N children.
        checked = load_signer(settings, rules.reviewers, rules.teams) if settings.signing_key is not None else None
        client_key = client_key_for(settings)
        with bootstrap_or_embedded(settings.bootstrap) as bootstrap:
            _start_up_summary(settings, rules, bootstrap)
            stop, failure = run_workers(settings, workers, bootstrap, checked, client_key)
        _exit(stop, failure)
        return
    if settings.signing_key is None and not settings.bootstrap:
        # Developer mode on the embedded broker: an ephemeral key, said out loud.
        signer = Signer.generate("gkt-dev-ephemeral")
        log.warning("ephemeral_signing_key", kid=signer.kid, reason="no GKT_SIGNING_KEY; embedded broker")
    else:
        signer = load_signer(settings, rules.reviewers, rules.teams)
    client_key = client_key_for(settings)
    with bootstrap_or_embedded(settings.bootstrap) as bootstrap:
        _start_up_summary(settings, rules, bootstrap)
        stop, failure = asyncio.run(_serve(settings, rules, signer, bootstrap, client_key))
    _exit(stop, failure)


def client_key_for(settings: Settings) -> ClientKey:
    """The client key of ``client_key_file``; on the embedded broker without one, an ephemeral key, said out
    loud (the embedded broker keeps nothing past its process, so neither could the memory)."""
    if settings.client_key_file is None and not settings.bootstrap:
        log.warning("ephemeral_client_key", reason="no GKT_CLIENT_KEY_FILE; embedded broker")
        return ClientKey.generate()
    return load_client_key(settings)


def _exit(stop: Stop, failure: Exception | None) -> None:
    """The last line, after the embedded broker (if any) stopped too; a failure exits 1 for the supervisor."""
    code = exiting(stop, failure)
    if code:
        raise typer.Exit(code)


def embedded_defaults(settings: Settings) -> Settings:
    """On the embedded broker (no bootstrap given), trust producers' timestamps: tansu keeps them whatever
    a topic's message.timestamp.type says (spec/wire.md, broker time). The start-up summary warns of it."""
    if settings.bootstrap or settings.trust_producer_time:
        return settings
    return settings.model_copy(update={"trust_producer_time": True})


GC_THRESHOLD = (50_000, 20, 100)


def _tune_gc() -> None:
    """Collect cycles less often: deciding a record allocates thousands of short-lived objects, nearly
    all freed by reference counting, and the collector's default (every 700 allocations) scanned
    them for cycles that are not there: ~15% of the time per record (docs/performance.md). What was
    loaded at start (contracts, agreements, policies) is frozen out of every scan."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


async def _serve(
    settings: Settings, rules: Rules, signer: Signer, bootstrap: str, client_key: ClientKey
) -> tuple[Stop, Exception | None]:
    """The service until a signal or a failure (returned), every client closed."""
    _tune_gc()
    stop = Stop().install()
    failure: Exception | None = None
    service = GatewayService(settings, rules, signer, bootstrap, client_key)
    jwks = dumps(load_keyset(settings, signer).as_jwks())
    http = HttpServer(service.ready, settings.http_port, jwks=jwks) if settings.http_port else None
    try:
        if http is not None:
            await http.start()
        await service.run(stop.event)
    except Exception as exc:  # every failure ends in the exiting line, a bug too (gateway/cli/stopping.py)
        failure = exc
    finally:
        if http is not None:
            await http.stop()
        log.info("stopped", decided=service.decided)
    return stop, failure


def _start_up_summary(settings: Settings, rules: Rules, bootstrap: str) -> None:
    """What this process will decide with, and what an operator should know before it does."""
    now = datetime.now(UTC)
    partners = rules.agreements.partners()
    governing = {partner: rules.agreements.governing(partner, now) for partner in partners}
    in_force = {p: a.ref for p, a in governing.items() if a is not None and a.in_force.contains(now)}
    log.info(
        "starting",
        bootstrap=bootstrap,
        agreements=in_force,
        policy=rules.policies.in_force(now).ref,
        reviewers=reviewers.ref if (reviewers := rules.reviewers.in_force(now)) else None,
        reference=str(settings.reference) if settings.reference else rules.topics.reference,
        folders=folders(settings),
        http_port=settings.http_port or None,
        group=settings.group_id,
    )
    if settings.trust_producer_time:
        log.warning(
            "producer_time_trusted",
            effect="records dated by their producer (CreateTime) are judged at that time: a sender could backdate"
            " a report to before its key was revoked; only for a broker that ignores LogAppendTime (the embedded one)",
            setting="trust_producer_time (GKT_TRUST_PRODUCER_TIME)",
        )
    if settings.allow_test_oins:
        log.warning("test_oins_accepted", effect="reports from test OINs (prefix 99) are decided: demo and tests only")
    elif testing := sorted(a.partner for a in governing.values() if a is not None and is_test_oin(a.oin)):
        log.error(
            "test_oins_refused",
            partners=testing,
            effect="their agreements name test OINs (prefix 99): every report of theirs is rejected, EVENT_INVALID",
            hint="give --agreements DIR with the real agreements (the packaged samples are for demo and tests)",
        )
    if reviewers is None:
        log.warning("no_reviewers_in_force", effect="every verdict on gkt.review is VERDICT_INVALID")
    elif reviewers.test and not settings.allow_test_oins:
        log.warning(
            "test_reviewers_refused",
            reviewers=reviewers.version,
            effect="these reviewers hold published test keys: their verdicts are VERDICT_INVALID; give --reviewers DIR",
        )
    if stale := [partner for partner in partners if partner not in in_force]:
        log.warning("no_agreement_in_force", partners=stale, effect="their reports are AGREEMENT_NOT_IN_FORCE")
