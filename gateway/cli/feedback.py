"""``gkt feedback send``: a detection team says what became of a signal (spec/selection.md, docs/feedback.md).

Signs the step with the team's own key, publishes it on ``bd.terugkoppeling``
keyed by the signal id, waits for the gateway's audit record of it and prints
the outcome. Exit 0 when it was recorded, 1 when it was refused
(``FEEDBACK_INVALID``), 2 on a usage error.
"""

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.options import Bootstrap, Config, TopicPrefix
from gateway.cli.options import settings as settings_for
from gateway.errors import UsageError

feedback_app = typer.Typer(help="Feedback from detection teams on signals (docs/feedback.md).", no_args_is_help=True)


@feedback_app.command("send")
def send(
    signal_id: Annotated[str, typer.Argument(help="the signal's signaalId")],
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help="geselecteerd, niet_geselecteerd, onderzoek_gestart, correctie_opgelegd, naheffing_opgelegd, "
            "boete_opgelegd or geen_vervolg",
        ),
    ],
    key: Annotated[Path, typer.Option("--key", help="the team's private key (PEM), as listed in the teams file")],
    kid: Annotated[str, typer.Option("--kid", help="the key's kid")],
    team: Annotated[str, typer.Option("--team", help="the team's id in the teams file, e.g. mkb-oost")],
    on: Annotated[str | None, typer.Option("--op", help="the day of the step, YYYY-MM-DD (default: today)")] = None,
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds to wait for the gateway's decision")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Sign and publish one step on a signal; print whether the gateway recorded it.

    Example: gkt feedback send 6f1c…-… --status geselecteerd --key team.pem --kid mkb-oost-2026 --team mkb-oost
    """
    from datetime import UTC, datetime

    from contracts.jsonio import dumps
    from gateway.feedback.step import FeedbackFormatError, read_step
    from gateway.kafka.security import client_options
    from gateway.signed_send import Signed, send_signed
    from gateway.signing import load_private_key, sign_detached
    from gateway.topics import Topics
    from routing.calendar import day_of_receipt

    day = on or day_of_receipt(datetime.now(UTC)).isoformat()
    value = dumps({"signaalId": signal_id, "status": status, "op": day, "team": team})
    try:
        read_step(value)  # the gateway's own reading: a wrong id, date or team is exit 2, before Kafka is asked
    except FeedbackFormatError as exc:
        raise UsageError(f"the step is not valid: {exc}") from None
    private, alg = load_private_key(key, kid)
    settings = settings_for(config, bootstrap=bootstrap, topic_prefix=topic_prefix)
    if not settings.bootstrap:
        raise UsageError("--bootstrap is required: feedback goes to the Kafka the gateway uses")
    topics = Topics(settings.topic_prefix)
    signed = Signed(
        topics.terugkoppeling,
        value,
        signal_id.encode(),
        sign_detached(value, private, kid, alg),
        "the step",
        "see gkt audit verify or gkt report",
        "a step sent twice is recorded twice and counted once per signal and status",
    )
    position, audit = asyncio.run(send_signed(settings.bootstrap, topics, signed, timeout, **client_options(settings)))
    outcome = audit["outcome"]
    shown = {
        "step": str(position),
        "signal_id": signal_id,
        "status": status,
        "op": day,
        "outcome": outcome,
        "reasons": audit["reasons"],
        "audit": {"chain": audit["chain"], "seq": audit["seq"]},
    }
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
    else:
        typer.echo(f"{status} on {day} for signal {signal_id} by {team}: {outcome}")
        for reason in audit["reasons"]:
            typer.echo(f"  {reason['code']}")
        if outcome == "rejected":
            typer.echo("  FEEDBACK_INVALID: see docs/feedback.md for what the gateway checks")
        typer.echo(f"  audit: {audit['chain']} seq {audit['seq']}")
    raise typer.Exit(1 if outcome == "rejected" else 0)
