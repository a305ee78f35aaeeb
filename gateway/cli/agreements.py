"""``gkt agreements``: working agreement files, checked offline with the gateway's own loader."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.options import Config
from gateway.cli.options import settings as settings_for

agreements_app = typer.Typer(help="Working agreements (werkafspraken) of the partners.", no_args_is_help=True)


@agreements_app.command("check")
def check(
    directory: Annotated[Path, typer.Argument(help="the agreements directory: <partner>/<version>.toml")],
    config: Config = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object: agreements, errors and warnings")] = False,
) -> None:
    """Load every agreement file as the gateway does at start, and print what is in force now.

    Every error of every file is listed (file, field, what is wrong), then
    warnings: a test OIN, one OIN for two partners, an agreement in force with
    no key valid now. Exit 1 when there is an error; warnings alone exit 0.
    Example: gkt agreements check contracts/agreements
    """
    from contracts.agreement_book import AgreementBook
    from contracts.registry import ContractRegistry
    from gateway.rules_loader import config_errors

    settings = settings_for(config)
    now = datetime.now(UTC)
    with config_errors():
        registry = ContractRegistry.discover(settings.contracts_dir)
    book, errors = AgreementBook.inspect(directory, registry)
    problems = [*errors, *book.warnings(directory, now)]
    if as_json:
        agreements = [
            {
                "partner": a.partner,
                "version": a.version,
                "oin": a.oin,
                "in_force_now": a.in_force.contains(now),
                "keys": [k.kid for k in a.keys],
                "report_types": {t.type: t.versions for t in a.report_types},
            }
            for a in book
        ]
        report = {"directory": str(directory), "valid": not errors, "agreements": agreements}
        typer.echo(json.dumps({**report, "problems": [p.as_json() for p in problems]}, indent=2))
    else:
        for agreement in book:
            state = "in force" if agreement.in_force.contains(now) else "not in force now"
            kids = ", ".join(key.kid for key in agreement.keys)
            types = "; ".join(f"{t.type} {', '.join(t.versions)}" for t in agreement.report_types)
            typer.echo(f"{agreement.partner} {agreement.version}: {state}; keys {kids}; {types}")
        for problem in problems:
            typer.echo(f"{problem.severity}: {problem}", err=True)
        warned = len(problems) - len(errors)
        if errors:
            typer.echo(f"{len(errors)} errors, {warned} warnings: the gateway would not start", err=True)
        else:
            summary = f"{len(list(book))} agreement files of {len(book.partners())} partners are valid"
            typer.echo(summary + (f" ({warned} warnings)" if warned else ""))
    if errors:
        raise typer.Exit(1)
