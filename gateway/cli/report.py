"""``gkt report``: the programme's figures from the audit log (spec/selection.md, docs/report.md).

Reads the audit log from Kafka or an export (``--file``), verifies every chain
it reads as ``gkt audit verify`` does and refuses to report on a log that does
not verify, then prints the figures per period: a table for people, ``--json``,
``--csv`` or ``--html FILE``. ``--partner P`` gives one partner's figures with
counts under 10 shown as ``<10``; with ``--publish`` they are signed and
published on that partner's feedback topic. Exit 0 with figures, 1 when the
log does not verify, 2 on a usage error.
"""

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from gateway.cli.options import Bootstrap, Config, TopicPrefix
from gateway.cli.options import settings as settings_for
from gateway.errors import UsageError

if TYPE_CHECKING:
    from gateway.audit.verify import VerifyReport
    from gateway.keyset import KeySet
    from gateway.report.figures import FigureCounter, Table, Window
    from gateway.settings import Settings


def report(
    first: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD (Dutch date), included")],
    last: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD (Dutch date), included")],
    by: Annotated[str, typer.Option("--by", help="month, quarter or year")] = "quarter",
    partner: Annotated[
        str | None, typer.Option("--partner", help="only this partner's reports; counts under 10 shown as <10")
    ] = None,
    publish: Annotated[
        bool, typer.Option("--publish", help="sign and publish the partner's figures on gkt.feedback.<partner>")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout: one row per figure")] = False,
    html_file: Annotated[Path | None, typer.Option("--html", help="write one self-contained HTML page here")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="an export (gkt audit export) instead of Kafka")] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="JWK set of the gateway's public keys")] = None,
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
) -> None:
    """Figures per period from the verified audit log: reports, rejections, signals, quarantine, feedback.

    Example: gkt report --from 2026-01-01 --to 2026-12-31 --by quarter --html figures-2026.html
    """
    from rich.console import Console

    from gateway.keyset import KeySet
    from gateway.report.figures import FigureCounter, Window
    from gateway.report.threshold import hide_small
    from gateway.rules_loader import load_keyset

    start, end, period = _day(first, "--from"), _day(last, "--to"), _period(by)
    if start > end:
        raise UsageError("--from is after --to")
    if publish and partner is None:
        raise UsageError("--publish needs --partner: a partner gets only its own figures")
    if sum([as_json, as_csv, html_file is not None]) > 1:
        raise UsageError("give at most one of --json, --csv and --html")
    settings = settings_for(config, bootstrap=bootstrap, topic_prefix=topic_prefix)
    window = Window(start, end, period, partner, settings.topic_prefix)
    keyset = KeySet.load(keys) if keys else load_keyset(settings)
    counter = FigureCounter(window)
    with Console(stderr=True).status("reading and verifying the audit log"):
        checked = _read(settings, file, keyset, counter)
    if not checked.ok:
        typer.echo(
            "gkt: the audit log does not verify, so it gives no figures: run gkt audit verify to see where",
            err=True,
        )
        raise typer.Exit(1)
    records = checked.records
    tables = counter.tables()
    leaves = partner is not None  # a partner's figures may leave the Belastingdienst (and --publish needs one)
    if leaves:
        tables = [hide_small(table) for table in tables]
    if publish:
        _publish(settings, window, tables)
    if as_json:
        from gateway.report.render import to_json

        typer.echo(json.dumps(to_json(window, tables, records), indent=2, ensure_ascii=False))
    elif as_csv:
        from gateway.report.render import to_csv

        typer.echo(to_csv(tables), nl=False)
    elif html_file is not None:
        from gateway.report.html import page

        html_file.write_text(page(window, tables, records, threshold=leaves), encoding="utf-8")
        typer.echo(f"wrote {html_file}")
    else:
        from gateway.report.render import to_console

        to_console(Console(), window, tables, records)


def _read(settings: "Settings", file: Path | None, keyset: "KeySet", counter: "FigureCounter") -> "VerifyReport":
    """Verify every record of the export or the topic, and count them into ``counter``.

    An export is verified first (every core) and counted only when it verifies. From Kafka, one pass verifies
    and counts; the counter takes any record (a forged one included) without failing, and a log that does not
    verify gives no figures anyway.
    """
    import orjson

    from gateway.audit.parallel import verify_export
    from gateway.audit.sources import export_lines
    from gateway.audit.verify import ChainVerifier

    def count(raw: bytes) -> None:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return  # the verifier fails the log for it
        if isinstance(record, dict):
            counter.add(record)

    if file is not None:
        if not file.is_file():
            raise UsageError(f"{file}: no such export file")
        checked = verify_export(file, keyset).finish()
        if checked.ok:
            for _, line in export_lines(file):
                count(line)
        return checked
    if not settings.bootstrap:
        raise UsageError("give --file, or --bootstrap to read the audit log from Kafka")
    from gateway.inbound import InboundRecord
    from gateway.kafka.follower import read_once
    from gateway.kafka.security import client_options
    from gateway.topics import Topics

    verifier = ChainVerifier(keyset)

    def take(record: InboundRecord) -> None:
        verifier.feed_bytes(record.value or b"", str(record.position))
        count(record.value or b"")

    asyncio.run(read_once(settings.bootstrap, Topics(settings.topic_prefix).audit, take, **client_options(settings)))
    return verifier.finish()


def _publish(settings: "Settings", window: "Window", tables: "list[Table]") -> None:
    from contracts.jsonio import dumps
    from gateway.kafka.roundtrip import send_one
    from gateway.kafka.security import client_options
    from gateway.outputs import signed
    from gateway.report.summary import summary_event
    from gateway.rules_loader import load_signer
    from gateway.topics import Topics
    from gateway.types import PartnerId

    assert window.partner is not None
    if not settings.bootstrap:
        raise UsageError("--publish needs --bootstrap: the summary goes on the partner's feedback topic")
    signer = load_signer(settings)
    event = summary_event(window, tables, settings.gateway_source, datetime.now(UTC))
    topic = Topics(settings.topic_prefix).feedback(PartnerId(window.partner))
    message = signed(topic, event["id"], dumps(event), signer)  # signed as the gateway signs a receipt
    # Sent again after a failure, the summary keeps its id: a partner sees a copy, not a second summary.
    record = (message.topic, message.value, message.key, list(message.headers))
    asyncio.run(send_one(settings.bootstrap, record, **client_options(settings)))
    typer.echo(f"published the summary {event['id']} on {topic}", err=True)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} must be a date, YYYY-MM-DD") from None


def _period(text: str) -> Literal["month", "quarter", "year"]:
    if text == "month":
        return "month"
    if text == "quarter":
        return "quarter"
    if text == "year":
        return "year"
    raise UsageError("--by must be month, quarter or year")
