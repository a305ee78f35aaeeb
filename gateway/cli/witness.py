"""``gkt witness``: cosign checkpoints of the audit chains that extend what this witness saw (spec/witness.md).

Run by a partner for its own chains, or by the internal audit department for
all of them. Exit 0 when every checkpoint read was cosigned or had nothing new;
3 when a chain was refused (a rollback, a fork, a chain that no longer extends:
the evidence is kept in the state folder, and the chain is never cosigned again);
1 when Kafka or the state failed; 2 on a usage error.
"""

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gateway.cli.options import Bootstrap, Config, GatewayKeys, TopicPrefix
from gateway.cli.options import settings as settings_for
from gateway.errors import UsageError

if TYPE_CHECKING:
    from gateway.witness.note import NoteSigner
    from gateway.witness.round import RoundReport, Witness
    from gateway.witness.state import WitnessState


def load_cosigner(path: Path, name: str) -> "NoteSigner":
    """The witness's Ed25519 key: a PEM file (``gkt keys new``) or a ``PRIVATE+KEY+…`` line of the reference
    implementation (then its name must be ``name``)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from gateway.witness.note import COSIGNATURE_V1, NoteError, NoteSigner, check_name

    try:
        check_name(name)
    except NoteError as exc:
        raise UsageError(f"--name {name!r}: {exc}") from exc
    if not path.is_file():
        raise UsageError(f"--key {path}: no such file")
    content = path.read_bytes()
    try:
        if content.startswith(b"PRIVATE+KEY+"):
            signer = NoteSigner.parse(content.decode("ascii"))
            if signer.name != name or signer.kind != COSIGNATURE_V1:
                raise UsageError(f"--key {path}: a cosignature key (type 0x04) named --name {name} is needed")
            return signer
        private = load_pem_private_key(content, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise UsageError(f"--key {path}: a witness cosigns with an Ed25519 key")
        return NoteSigner(name, COSIGNATURE_V1, private)
    except (ValueError, NoteError, UnicodeDecodeError) as exc:
        if isinstance(exc, UsageError):
            raise
        raise UsageError(f"--key {path}: not an Ed25519 private key ({type(exc).__name__})") from exc


def witness(
    key: Annotated[Path, typer.Option("--key", help="the witness's own Ed25519 private key (PEM)")],
    name: Annotated[str, typer.Option("--name", help="the witness's key name, e.g. witness.nlarbeidsinspectie.nl")],
    chains: Annotated[
        str | None, typer.Option("--chains", help="the chains to witness, a glob: 'gkt.in.nla/*', or '*'")
    ] = None,
    state: Annotated[
        Path | None, typer.Option("--state", help="the witness's state folder: what it cosigned, evidence")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="one round, then exit (for a cron job)")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=1.0, help="seconds between rounds when running on")
    ] = 10.0,
    http_port: Annotated[
        int, typer.Option("--http-port", min=0, max=65535, help="/metrics and /healthz when running on; 0: none")
    ] = 8081,
    print_vkey: Annotated[
        bool, typer.Option("--print-vkey", help="print the witness's public key line for verifiers, and exit")
    ] = False,
    keys: GatewayKeys = None,
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
) -> None:
    """Check that each new checkpoint extends the last one cosigned, and cosign it on gkt.witness.

    Example: gkt witness --chains 'gkt.in.nla/*' --key witness.pem --name witness.nla.nl --state /var/lib/gkt-witness
    """
    from gateway.kafka.security import client_options
    from gateway.keyset import KeySet
    from gateway.rules_loader import load_keyset
    from gateway.topics import Topics
    from gateway.witness.checkpoint import gateway_verifiers
    from gateway.witness.round import Witness
    from gateway.witness.state import WitnessState

    cosigner = load_cosigner(key, name)
    if print_vkey:
        typer.echo(cosigner.verifier.vkey)
        return
    if chains is None or state is None:
        raise UsageError("give --chains and --state: which chains to witness, and the witness's state folder")
    from gateway import logs

    settings = settings_for(config, bootstrap=bootstrap, topic_prefix=topic_prefix)
    # Once (a cron job): the lines below are the output. Running on: JSON log lines on stderr, as the gateway's.
    logs.configure("warning", json=False) if once else logs.configure(settings.log_level)
    if not settings.bootstrap:
        raise UsageError("--bootstrap is required: the witness reads gkt.checkpoints and gkt.audit on Kafka")
    gateway = gateway_verifiers(KeySet.load(keys) if keys else load_keyset(settings), settings.origin)
    if not gateway:
        raise UsageError("no Ed25519 gateway key to check checkpoints with: give --keys (gkt keys fetch)")
    witnessing = Witness(
        settings.bootstrap,
        Topics(settings.topic_prefix),
        settings.origin,
        gateway,
        cosigner,
        chains,
        client_options(settings),
    )
    folder = WitnessState(state)
    code = asyncio.run(_rounds(witnessing, folder, once=once, interval=interval, http_port=http_port))
    raise typer.Exit(code)


async def _rounds(witness: "Witness", state: "WitnessState", *, once: bool, interval: float, http_port: int) -> int:
    from gateway.cli.stopping import Stop
    from gateway.http import HttpServer
    from gateway.witness.metrics import WITNESS_REGISTRY
    from gateway.witness.round import CheckpointsCutError, witness_round

    async def metrics() -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(WITNESS_REGISTRY)

    stop = Stop().install()
    server = None
    if not once and http_port:
        server = HttpServer(lambda: True, http_port, metrics=metrics)
        await server.start()
    try:
        while True:
            try:
                report = await witness_round(witness, state)
            except CheckpointsCutError as exc:
                typer.echo(f"refused: {exc}", err=True)
                return 3
            _print(report)
            if once or report.exit_code or stop.event.is_set():
                return report.exit_code
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.event.wait(), interval)
            if stop.event.is_set():
                return 0
    finally:
        if server is not None:
            await server.stop()


def _print(report: "RoundReport") -> None:
    for chain, size in sorted(report.cosigned.items()):
        typer.echo(f"cosigned {chain} at {size} records")
    if report.skipped:
        typer.echo(f"passed by {report.skipped} records of gkt.checkpoints that no gateway key signed", err=True)
    for chain, what in sorted(report.refused.items()):
        typer.echo(f"refused {chain}: {what}", err=True)
