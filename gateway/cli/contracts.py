"""``gkt contracts``: list, publish and check the report-type contracts."""

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from contracts.registry import ContractRegistry
    from gateway.settings import Settings

from gateway.cli.options import Agreements, Config
from gateway.cli.options import settings as settings_for
from gateway.errors import GatewayError, UsageError

contracts_app = typer.Typer(
    help="Report-type contracts: versions, published schemas, compatibility.", no_args_is_help=True
)

ContractsDir = Annotated[
    Path | None, typer.Option("--contracts-dir", help="extra contract modules (setting contracts_dir)")
]


def _registry(config: Path | None, contracts_dir: Path | None) -> tuple["Settings", "ContractRegistry"]:
    from contracts.registry import ContractRegistry

    loaded = settings_for(config, contracts_dir=contracts_dir)
    from gateway.rules_loader import config_errors

    with config_errors():
        return loaded, ContractRegistry.discover(loaded.contracts_dir)


@contracts_app.command("list")
def list_contracts(config: Config = None, contracts_dir: ContractsDir = None, agreements: Agreements = None) -> None:
    """Report types and versions, with their status and the partners that may send them now.

    Example: gkt contracts list
    """
    from contracts.agreement_book import AgreementBook
    from contracts.signal import SIGNAL_TYPE
    from contracts.snapshots import published, status

    settings, registry = _registry(config, contracts_dir)
    from gateway.rules_loader import config_errors

    with config_errors():
        book = AgreementBook.load(agreements or settings.agreements, registry)
    now = datetime.now(UTC)
    for item in published(registry):
        if item.type == SIGNAL_TYPE:
            typer.echo(f"{item.type:45} {item.version:5} {status(item):12} outbound: what detection consumers receive")
            continue
        partners = []
        for partner in book.partners():
            agreement = book.in_force(partner, now)
            terms = agreement.report_type(item.type) if agreement else None
            if terms is not None and item.version in terms.versions:
                sunset = terms.sunset.get(item.version)
                partners.append(f"{partner} (until {sunset.date()})" if sunset else partner)
        agreed = ", ".join(partners) or "-"
        typer.echo(f"{item.type:45} {item.version:5} {status(item):12} agreed now: {agreed}")


@contracts_app.command("schema")
def schema(
    contract: Annotated[str, typer.Argument(help="TYPE:VERSION, e.g. nl.nla.schijnzelfstandigheid:1.1")],
    write: Annotated[bool, typer.Option("--write", help="store it as the published snapshot (new versions)")] = False,
    config: Config = None,
    contracts_dir: ContractsDir = None,
) -> None:
    """Print the JSON Schema of one contract version.

    Example: gkt contracts schema nl.nla.schijnzelfstandigheid:2.0
    """
    from contracts.snapshots import published, render

    _, registry = _registry(config, contracts_dir)
    items = {item.key: item for item in published(registry)}
    if contract not in items:
        raise UsageError(f"no contract {contract!r}; known: {', '.join(sorted(items))}")
    item = items[contract]
    text = render(item.schema())
    if write:
        if item.snapshot.exists():
            raise GatewayError(f"{item.snapshot}: a published snapshot never changes; add a new version instead")
        item.snapshot.parent.mkdir(parents=True, exist_ok=True)
        item.snapshot.write_text(text)
        typer.echo(f"published {contract} as {item.snapshot}", err=True)
    typer.echo(text, nl=False)


@contracts_app.command("check")
def check(config: Config = None, contracts_dir: ContractsDir = None) -> None:
    """Fail when a model no longer matches its published snapshot or a minor version breaks the one before.

    Example: gkt contracts check
    """
    from contracts.snapshots import check as check_snapshots
    from contracts.snapshots import published

    _, registry = _registry(config, contracts_dir)
    problems = check_snapshots(registry)
    for problem in problems:
        typer.echo(f"gkt contracts check: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"all {len(published(registry))} published contract versions match their snapshots and are compatible")
