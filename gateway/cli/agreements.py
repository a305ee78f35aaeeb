"""``gkt agreements``: working agreement files, checked offline with the gateway's own loader."""

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
) -> None:
    """Load every agreement file as the gateway does at start, and print what is in force now.

    A file that is wrong is one line naming file and field, and exit 1.
    Example: gkt agreements check contracts/agreements
    """
    from contracts.agreement_book import AgreementBook
    from contracts.registry import ContractRegistry
    from gateway.rules_loader import config_errors

    settings = settings_for(config)
    now = datetime.now(UTC)
    with config_errors():
        book = AgreementBook.load(directory, ContractRegistry.discover(settings.contracts_dir))
    for agreement in book:
        state = "in force" if agreement.in_force.contains(now) else "not in force now"
        kids = ", ".join(key.kid for key in agreement.keys)
        types = "; ".join(f"{t.type} {', '.join(t.versions)}" for t in agreement.report_types)
        typer.echo(f"{agreement.partner} {agreement.version}: {state}; keys {kids}; {types}")
    typer.echo(f"{len(list(book))} agreement files of {len(book.partners())} partners are valid")
