"""``gkt``: one entry point for partners, consumers, auditors and operators.

Errors are one line on stderr and a non-zero exit, never a traceback.
"""

import asyncio
import json
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click.exceptions import NoArgsIsHelpError  # typer is pinned <0.30; tests cover it

from gateway.cli.agreements import agreements_app
from gateway.cli.audit import audit_app
from gateway.cli.contracts import contracts_app
from gateway.cli.feedback import feedback_app
from gateway.cli.keys import keys_app
from gateway.cli.options import (
    Agreements,
    AllowTestOins,
    Bootstrap,
    Config,
    GatewayKeys,
    Partner,
    Reference,
    Reviewers,
    TopicPrefix,
)
from gateway.cli.options import settings as settings_for
from gateway.cli.reference import reference_app
from gateway.cli.report import report
from gateway.cli.review import review_app
from gateway.cli.topics import topics_app
from gateway.cli.witness import witness
from gateway.errors import BrokerError, GatewayError, UsageError
from gateway.types import PartnerId

if TYPE_CHECKING:
    from gateway.keyset import KeySet
    from gateway.settings import Settings

app = typer.Typer(
    name="gkt",
    help="GKT signal gateway: partner reports of false self-employment, authenticated, checked and routed.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # gkt --install-completion: bash, zsh, fish, PowerShell
)


def _print_version(asked: bool) -> None:
    if asked:
        from gateway import __version__

        typer.echo(f"gkt {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", help="print the version and exit", is_eager=True, callback=_print_version)
    ] = False,
) -> None:
    """GKT signal gateway: partner reports of false self-employment, authenticated, checked and routed."""


app.add_typer(topics_app, name="topics")
app.add_typer(keys_app, name="keys")
app.add_typer(agreements_app, name="agreements")
app.add_typer(reference_app, name="reference")
app.add_typer(contracts_app, name="contracts")
app.add_typer(audit_app, name="audit")
app.add_typer(review_app, name="review")
app.add_typer(feedback_app, name="feedback")
app.command("report")(report)
app.command("witness")(witness)


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from exc


def _parse_time(value: str) -> datetime:
    from gateway.inbound import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS
    from validators.wire import parse_rfc3339

    moment = parse_rfc3339(value)
    if moment is None:
        raise UsageError(f"--received-at {value!r}: expected RFC 3339 with an offset, e.g. 2025-03-14T09:30:00+01:00")
    try:
        millis = int(moment.timestamp() * 1000)
    except (OverflowError, ValueError):
        millis = -1
    if not MIN_TIMESTAMP_MS <= millis <= MAX_TIMESTAMP_MS:
        raise UsageError(f"--received-at {value!r}: a Kafka timestamp is a moment from 1970 to 9999")
    return moment


@app.command()
def demo() -> None:
    """Run the whole flow on the embedded broker and check every sample's outcome.

    Example: gkt demo
    """
    from gateway import logs
    from gateway.cli.render import print_demo
    from gateway.demo.run import run_demo

    logs.configure("warning", json=False)  # the table is the demo's output, not the service's log
    result = asyncio.run(run_demo())
    print_demo(result)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def run(
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
    agreements: Agreements = None,
    reviewers: Reviewers = None,
    reference: Reference = None,
    allow_test_oins: AllowTestOins = None,
    http_port: Annotated[int | None, typer.Option("--http-port", help="port of /healthz, /readyz, /metrics")] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="gateway processes in one consumer group (one per core)")
    ] = 1,
) -> None:
    """Run the gateway service until SIGTERM or Ctrl-C; with --workers N, N processes started and stopped together.

    Example: GKT_SIGNING_KEY=keys/gw.pem gkt run --bootstrap kafka:9092 --http-port 8080
    """
    from gateway.cli.run import run_service

    settings = settings_for(
        config,
        bootstrap=bootstrap,
        topic_prefix=topic_prefix,
        agreements=agreements,
        reviewers=reviewers,
        reference=reference,
        allow_test_oins=allow_test_oins,
        http_port=http_port,
    )
    run_service(settings, workers)


@app.command()
def broker(port: Annotated[int, typer.Option("--port", help="port on 127.0.0.1")] = 9092) -> None:
    """Run the embedded Kafka-protocol broker (tansu, memory only) in the foreground.

    Example: gkt broker --port 9092
    """
    import threading

    from gateway.kafka.embedded import EmbeddedBroker

    # Handlers are set before the broker starts, so a signal in between is not lost;
    # unlike a blocked signal mask, handlers are not inherited by the broker process.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with EmbeddedBroker(port=port) as running:  # raises, naming the port, when it cannot listen or answer
        typer.echo(f"embedded broker on {running.bootstrap}; Ctrl-C stops it (its data is lost)")
        while not stop.wait(0.2):
            if exited := running.exited():
                raise BrokerError(f"{exited}; clients of {running.bootstrap} have no broker now")
        typer.echo("stopping the embedded broker")


@app.command()
def sample(
    contract: Annotated[str, typer.Argument(help="TYPE:VERSION, e.g. nl.nla.schijnzelfstandigheid:2.0")],
    source: Annotated[
        str | None, typer.Option("--source", help="urn:nld:oin:<your OIN>; default: the sample partner's test OIN")
    ] = None,
    event_id: Annotated[str | None, typer.Option("--id", help="the event id; default: a new one")] = None,
) -> None:
    """Print a complete, valid event of one contract version, dated now and with a new id.

    Edit it into your own report, or send it as is to try the whole way through (docs/partners.md).
    Example: gkt sample nl.nla.schijnzelfstandigheid:2.0 > event.json
    """
    from gateway.demo.samples import SAMPLE_REPORTS, sample_event
    from validators.wire import is_event_id

    report_type, _, version = contract.rpartition(":")
    if event_id is not None and not is_event_id(event_id):
        raise UsageError("--id: 1 to 128 of A-Z a-z 0-9 . _ : -")
    if source is not None and not source.startswith("urn:nld:oin:"):
        raise UsageError("--source: urn:nld:oin:<your OIN>, optionally :<system>")
    moment = datetime.now(UTC).replace(microsecond=0)
    made = sample_event(report_type, version, time=moment, source=source, event_id=event_id)
    if made is None:
        known = ", ".join(f"{t}:{v}" for t, v in SAMPLE_REPORTS)
        raise UsageError(f"{contract!r}: no such contract version; one of {known} (gkt contracts list)")
    typer.echo(json.dumps(made, indent=2, ensure_ascii=False))


@app.command()
def sign(
    file: Annotated[Path, typer.Argument(help="the event JSON, exactly as it will be sent")],
    key: Annotated[Path, typer.Option("--key", help="private key PEM")],
    kid: Annotated[str, typer.Option("--kid", help="key id listed in the agreement")],
) -> None:
    """Print the gkt-signature header value for the event in FILE.

    Example: gkt sign event.json --key keys/nla-2026-01.pem --kid nla-2026-01
    """
    from gateway.signing import load_private_key, sign_detached

    private, alg = load_private_key(key, kid)
    typer.echo(sign_detached(_read_file(file), private, kid, alg))


# Exit codes of gkt publish beyond 0/1/2: what happened to the record when no receipt was printed.
EXIT_NOT_SENT = 3  # nothing written, or perhaps written: send the same file again, unchanged
EXIT_NO_RECEIPT_YET = 4  # written; the receipt comes when the gateway decides it: gkt receipt


@app.command()
def publish(
    file: Annotated[Path, typer.Argument(help="the event JSON")],
    partner: Partner,
    key: Annotated[Path, typer.Option("--key", help="private key PEM")],
    kid: Annotated[str, typer.Option("--kid", help="key id listed in the agreement")],
    keys: GatewayKeys = None,
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds to wait for the receipt")] = 60.0,
) -> None:
    """Sign, publish, wait for the signed receipt, verify it and print it.

    Exit 0 accepted or duplicate (a retry: the first decision stands), 1 rejected or a receipt that does
    not verify, 2 usage error, 3 not sent or perhaps not sent (send the same file again, unchanged),
    4 sent but no receipt yet (never send it again with a new id: fetch the receipt with gkt receipt).

    The receipt is your proof of delivery: it is printed with its signature and
    whether that verifies with the gateway's keys (--keys or GKT_GATEWAY_KEYS).
    Example: gkt publish event.json --partner nla --key keys/nla.pem --kid nla-2026-01 --keys gateway-keys.json
    """
    from gateway.cli.partner import publish_and_wait, shown
    from gateway.kafka.roundtrip import MaybeSentError, NotSentError, UnansweredError
    from gateway.signing import load_private_key, sign_detached

    settings = settings_for(config, bootstrap=bootstrap, topic_prefix=topic_prefix)
    if not settings.bootstrap:
        raise UsageError("--bootstrap is required: the gateway you publish to runs somewhere")
    gateway_keys = _gateway_keys(keys, settings)
    value = _read_file(file)
    private, alg = load_private_key(key, kid)
    signature = sign_detached(value, private, kid, alg).encode("ascii")
    try:
        record = asyncio.run(publish_and_wait(settings, PartnerId(partner), value, signature, timeout))
    except NotSentError as exc:
        typer.echo(f"gkt: {exc}: nothing was sent. Run the same command again when Kafka answers.", err=True)
        raise typer.Exit(EXIT_NOT_SENT) from exc
    except MaybeSentError as exc:
        typer.echo(
            f"gkt: {exc}: the record may or may not have been written. Send the same file again, unchanged: "
            "if the first arrived, the copy is answered duplicate. Never send it with a new id.",
            err=True,
        )
        raise typer.Exit(EXIT_NOT_SENT) from exc
    except UnansweredError as exc:
        at = exc.position
        wanted = _event_id(value) or f"{at.topic}/{at.partition}/{at.offset}"
        typer.echo(
            f"gkt: the record was written ({at.topic} partition {at.partition}, offset {at.offset}), but no "
            f"receipt came within {timeout:g} s: the gateway decides it when it runs. Do not send it again with "
            f"a new id. Fetch the receipt later: gkt receipt --partner {partner} --id {wanted}",
            err=True,
        )
        raise typer.Exit(EXIT_NO_RECEIPT_YET) from exc
    printed = shown(record, gateway_keys)
    typer.echo(json.dumps(printed, indent=2, ensure_ascii=False))
    _judge_receipts([printed], given_keys=gateway_keys is not None)
    # A duplicate is a retry of a report the gateway decided before: that first decision stands, nothing to do.
    raise typer.Exit(0 if printed["receipt"].get("outcome") in ("accepted", "duplicate") else 1)


@app.command()
def receipt(
    partner: Partner,
    event_id: Annotated[
        str, typer.Option("--id", help="the event id; or TOPIC/PARTITION/OFFSET for a record that was unreadable")
    ],
    keys: GatewayKeys = None,
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds to read the feedback topic")] = 60.0,
) -> None:
    """Fetch the receipts of one record from your feedback topic, later: after gkt publish stopped waiting.

    Prints {"receipts": [...]}, oldest first, each as gkt publish prints one: the first holds the decision,
    a later one answers a copy (duplicate). Exit 0 found (and verified, with --keys), 1 none yet or one that
    does not verify.
    Example: gkt receipt --partner nla --id nla-2026-000123 --keys gateway-keys.json --bootstrap kafka:9092
    """
    from gateway.cli.partner import receipts_of, shown
    from gateway.review.verdict import parse_item
    from validators.wire import is_event_id

    if not is_event_id(event_id) and parse_item(event_id) is None:
        raise UsageError("--id: an event id (1 to 128 of A-Z a-z 0-9 . _ : -) or TOPIC/PARTITION/OFFSET")
    settings = settings_for(config, bootstrap=bootstrap, topic_prefix=topic_prefix)
    if not settings.bootstrap:
        raise UsageError("--bootstrap is required: the gateway's Kafka runs somewhere")
    gateway_keys = _gateway_keys(keys, settings)
    records = asyncio.run(receipts_of(settings, PartnerId(partner), event_id, timeout))
    printed = [shown(record, gateway_keys) for record in records]
    typer.echo(json.dumps({"receipts": printed}, indent=2, ensure_ascii=False))
    if not printed:
        raise GatewayError(
            f"no receipt for {event_id} on your feedback topic yet: if the record was written, the gateway "
            "answers it when it runs; if it was never written, send it (same id)"
        )
    _judge_receipts(printed, given_keys=gateway_keys is not None)


def _gateway_keys(keys: Path | None, settings: "Settings") -> "KeySet | None":
    from gateway.keyset import KeySet
    from gateway.rules_loader import load_keyset

    return KeySet.load(keys) if keys else load_keyset(settings) if settings.gateway_keys else None


def _judge_receipts(printed: list[dict[str, Any]], *, given_keys: bool) -> None:
    if not given_keys:
        typer.echo("gkt: note: give --keys (gkt keys fetch) to verify the receipt's signature", err=True)
    if any(one["signature_verified"] is False for one in printed):
        raise GatewayError("a receipt's signature does not verify with the gateway's keys: do not rely on it")


def _event_id(value: bytes) -> str | None:
    """The event's ``id`` when the file is an event with a well-formed one: for the hint that names it."""
    from contracts.jsonio import strict_loads
    from validators.wire import is_event_id

    try:
        event = strict_loads(value)
    except ValueError:
        return None
    candidate = event.get("id") if isinstance(event, dict) else None
    return candidate if isinstance(candidate, str) and is_event_id(candidate) else None


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="the event JSON, exactly as it will be sent")],
    partner: Annotated[str, typer.Option("--partner", help="partner whose topic it is sent to")],
    key: Annotated[Path | None, typer.Option("--key", help="private key PEM to sign with")] = None,
    kid: Annotated[str | None, typer.Option("--kid", help="key id, with --key")] = None,
    signature: Annotated[
        str | None, typer.Option("--signature", help="a gkt-signature value instead; '' sends none")
    ] = None,
    received_at: Annotated[str | None, typer.Option("--received-at", help="RFC 3339; default now")] = None,
    config: Config = None,
    agreements: Agreements = None,
    reference: Reference = None,
    allow_test_oins: AllowTestOins = None,
) -> None:
    """Decide one event offline and print outcome, reasons, destination, receipt and signal as JSON.

    Exit 0 routed, 1 any other outcome, 2 usage error.
    Example: gkt check event.json --partner nla --key keys/nla.pem --kid nla-2026-01 --reference ref.jsonl
    """
    from gateway.cli.offline import check_event
    from gateway.rules_loader import in_use_line, load_rules
    from gateway.signing import load_private_key, sign_detached

    if (key is None) == (signature is None) or (key is not None and not kid):
        raise UsageError("give either --key with --kid, or --signature")
    settings = settings_for(config, agreements=agreements, reference=reference, allow_test_oins=allow_test_oins)
    value = _read_file(file)
    if key is not None and kid:
        private, alg = load_private_key(key, kid)
        signature = sign_detached(value, private, kid, alg)
    moment = _parse_time(received_at) if received_at else datetime.now(UTC)
    rules = load_rules(settings)
    typer.echo(f"gkt: deciding with {in_use_line(settings, rules, moment)}", err=True)
    if settings.reference is None:
        typer.echo("gkt: note: no --reference given, so every client is unknown to routing", err=True)
    _, result = check_event(
        value,
        PartnerId(partner),
        os.fsencode(signature) if signature else None,  # the bytes as given, ASCII or not
        rules,
        moment,
        datetime.now(UTC),
    )
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
    raise typer.Exit(0 if result["outcome"] == "routed" else 1)


@app.command()
def asyncapi(
    config: Config = None,
    topic_prefix: TopicPrefix = None,
    agreements: Agreements = None,
    bootstrap: Bootstrap = None,
) -> None:
    """Print the AsyncAPI 3.0 document of every topic and message, as JSON.

    Example: gkt asyncapi > asyncapi.json
    """
    from gateway.asyncapi import asyncapi_document
    from gateway.rules_loader import load_rules

    settings = settings_for(config, topic_prefix=topic_prefix, agreements=agreements, bootstrap=bootstrap)
    document = asyncapi_document(load_rules(settings), settings.bootstrap or "kafka:9092")
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def main() -> None:
    """Console entry point: one line on stderr for every error, never a traceback.

    typer vendors its own click (``typer._click``): its exceptions derive from
    ``typer.TyperException``, not from the ``click`` package's classes.
    """
    # A command says what went wrong in one line of ours; aiokafka's own lines ("Unable connect to …") would
    # repeat it in its words. The service's logging (gateway/logs.py) lets them through again, as log lines.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL + 1)
    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except NoArgsIsHelpError as exc:
        exc.show()  # the help text: asking for nothing is asking for help
        sys.exit(2)
    except typer.TyperException as exc:
        print(f"gkt: {exc.format_message()} (see 'gkt --help')", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except UsageError as exc:
        print(f"gkt: {exc}", file=sys.stderr)
        sys.exit(2)
    except GatewayError as exc:
        print(f"gkt: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
