"""Options shared by the commands that touch Kafka or decide (spec/cli.md)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from gateway.settings import Settings

Config = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML settings file: each setting by its name, lower case, without GKT_ (GKT_BOOTSTRAP is bootstrap); "
        "see gkt.example.toml",
    ),
]
Bootstrap = Annotated[
    str | None,
    typer.Option("--bootstrap", help="Kafka HOST:PORT; default: start the embedded broker"),
]
TopicPrefix = Annotated[str | None, typer.Option("--topic-prefix", help="deployment prefix of every topic")]
Agreements = Annotated[
    Path | None,
    typer.Option(
        "--agreements",
        help="working agreements directory (default: ./contracts/agreements if there, else the packaged samples)",
    ),
]
Reviewers = Annotated[
    Path | None,
    typer.Option(
        "--reviewers",
        help="reviewers directory (default: ./contracts/reviewers if there, else the samples; docs/review.md)",
    ),
]
Reference = Annotated[
    Path | None,
    typer.Option("--reference", help="reference data as JSON Lines (default: the reference topic)"),
]
AllowTestOins = Annotated[
    bool | None,
    typer.Option("--allow-test-oins/--no-allow-test-oins", help="accept test OINs (demo and tests)"),
]

Partner = Annotated[str, typer.Option("--partner", help="your short name, e.g. nla")]
GatewayKeys = Annotated[
    Path | None, typer.Option("--keys", help="the gateway's public keys (a file of gkt keys fetch), to verify")
]


def settings(config: Path | None = None, **flags: object) -> "Settings":
    """The settings for one command: its flags (``None`` = not given), environment, ``--config``.

    Imported lazily so that ``gkt --help`` does not load pydantic and the rules.
    """
    from gateway.settings import load_settings

    return load_settings(config, **flags)
