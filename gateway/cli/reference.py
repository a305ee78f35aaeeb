"""``gkt reference``: load and look up the reference data about clients (``bd.ref.opdrachtgevers``).

The Belastingdienst fills the topic; the gateway follows it. ``load`` checks
every record of a JSON Lines file with the gateway's own model before it
publishes anything, keyed by KVK-nummer (the topic is compacted: the last
record of a key wins, a null value deletes).
"""

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.options import Bootstrap, Config, TopicPrefix
from gateway.cli.options import settings as settings_for
from gateway.errors import UsageError

_CHUNK = 5_000  # records per acknowledged write of gkt reference load
reference_app = typer.Typer(help="Reference data about clients (bd.ref.opdrachtgevers).", no_args_is_help=True)


@reference_app.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="JSON Lines, one reference record per line (spec/agreements.md)")],
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
) -> None:
    """Check every record of FILE, then publish them all to the reference topic, keyed by KVK-nummer.

    Nothing is published when any line is invalid (the error names the line).
    Example: gkt reference load clients.jsonl --bootstrap kafka:9092
    """
    from contracts.jsonio import dumps
    from gateway.kafka.security import client_options
    from gateway.kafka.writer import Writer, new_producer
    from gateway.outputs import OutMessage
    from gateway.rules_loader import config_errors
    from gateway.topics import Topics
    from routing.reference import checked_records

    settings = settings_for(config, bootstrap=bootstrap, topic_prefix=topic_prefix)
    if not settings.bootstrap:
        raise UsageError("--bootstrap is required: the reference topic lives on the Kafka the gateway follows")
    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    with config_errors():  # the first pass checks every line; a ConfigError names the line and why
        lines = sum(1 for _ in checked_records(file))
    topic = Topics(settings.topic_prefix).reference

    async def publish() -> None:
        """The second pass: the same stream, written a chunk at a time (memory stays bounded, 26 MB or 1 GB)."""
        producer = new_producer(settings.bootstrap or "", **client_options(settings))
        await producer.start()
        try:
            writer, chunk = Writer(producer), []
            for _number, record in checked_records(file):
                value = dumps(record.model_dump(mode="json", exclude_none=True))
                chunk.append(OutMessage(topic, record.kvkNummer.encode(), value))
                if len(chunk) == _CHUNK:
                    await writer.write(chunk)
                    chunk = []
            await writer.write(chunk)
        finally:
            await producer.stop()

    with config_errors():
        asyncio.run(publish())
    typer.echo(f"loaded {lines} records into {topic}")


@reference_app.command("show")
def show(
    kvk: Annotated[str, typer.Argument(help="the client's KVK-nummer")],
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
) -> None:
    """Print what the reference topic says of one client now; exit 1 when it says nothing.

    Example: gkt reference show 12345678 --bootstrap kafka:9092
    """
    from contracts.jsonio import strict_loads
    from gateway.kafka.follower import read_all
    from gateway.kafka.security import client_options
    from gateway.topics import Topics

    settings = settings_for(config, bootstrap=bootstrap, topic_prefix=topic_prefix)
    if not settings.bootstrap:
        raise UsageError("--bootstrap is required: the reference topic lives on the Kafka the gateway follows")
    topic = Topics(settings.topic_prefix).reference
    records = asyncio.run(read_all(settings.bootstrap, topic, **client_options(settings)))
    latest = [r for r in records if r.key == kvk.encode()][-1:]
    if not latest or latest[0].value is None:
        typer.echo(f"{kvk}: not in the reference data on {topic}", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(strict_loads(latest[0].value), indent=2))
