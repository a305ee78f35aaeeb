"""``gkt review``: the quarantine queue for the review team (spec/review.md, docs/review.md).

``list`` and ``show`` read the audit log, the quarantine topic and the held
report; ``release``, ``discard`` and ``recheck`` sign a verdict with the
reviewer's own key, publish it, and print what the gateway decided. Exit 0
when the verdict was taken (pending, released, discarded), 1 when it was
rejected, 2 on a usage error.
"""

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gateway.cli.options import Agreements, AllowTestOins, Bootstrap, Config, Reference, Reviewers, TopicPrefix
from gateway.cli.options import settings as settings_for
from gateway.cli.plain import plain
from gateway.errors import UsageError

if TYPE_CHECKING:
    from contracts.reviewer_book import ReviewerBook
    from gateway.inbound import InboundRecord
    from gateway.pipeline import Rules
    from gateway.review.state import Item, ReviewState
    from gateway.settings import Settings

review_app = typer.Typer(
    help="Quarantine review: the queue, and four-eyes verdicts (docs/review.md).", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]
ItemArg = Annotated[str, typer.Argument(help="item id <topic>/<partition>/<offset>, or the event id when unique")]
Key = Annotated[Path, typer.Option("--key", help="your private key (PEM), as listed in the reviewers file")]
Kid = Annotated[str, typer.Option("--kid", help="your key's kid")]
ReviewerId = Annotated[str, typer.Option("--reviewer", help="your reviewer id (staff number)")]
Grounds = Annotated[
    str | None,
    typer.Option("--grounds", help="why, 1-1000 characters; required for release and discard (stays on gkt.review)"),
]
Timeout = Annotated[float, typer.Option("--timeout", help="seconds to wait for the gateway's decision")]


def _settings(config: Path | None, bootstrap: str | None, topic_prefix: str | None, **flags: Any) -> "Settings":
    settings = settings_for(config, bootstrap=bootstrap, topic_prefix=topic_prefix, **flags)
    if not settings.bootstrap:
        raise UsageError("--bootstrap is required: the quarantine lives on the Kafka the gateway uses")
    return settings


def _reviewer_names(settings: "Settings") -> "ReviewerBook":
    from contracts.reviewer_book import ReviewerBook
    from gateway.rules_loader import config_errors

    with config_errors():
        return ReviewerBook.load(settings.reviewers)


def _state(settings: "Settings") -> "ReviewState":
    from gateway.kafka.security import client_options
    from gateway.review.desk import load_state
    from gateway.topics import Topics

    assert settings.bootstrap
    return asyncio.run(load_state(settings.bootstrap, Topics(settings.topic_prefix), **client_options(settings)))


def _item_json(item: "Item", state: "ReviewState", now: datetime, prefix: str) -> dict[str, Any]:
    from gateway.review.desk import age_days
    from gateway.topics import Topics

    age = age_days(item, now)
    closed = state.closed(item.position)
    return {
        "item": str(item.position),
        "status": closed.value if closed else "open",
        "partner": Topics(prefix).partner_of(item.position.topic),
        "event_id": item.event_id,
        "reasons": list(item.reasons),
        "received_at": item.received_at,
        "age_days": round(age, 1) if age is not None else None,
        "verdicts": [
            {"reviewer": g.reviewer, "verdict": g.kind.value, "outcome": g.outcome.value}
            for g in state.given(item.position)
        ],
    }


@review_app.command("list")
def list_items(
    reason: Annotated[str | None, typer.Option("--reason", help="only items held for this reason code")] = None,
    partner: Annotated[str | None, typer.Option("--partner", help="only this partner's reports")] = None,
    older_than: Annotated[float | None, typer.Option("--older-than", help="only items older than DAYS")] = None,
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
    agreements: Agreements = None,
    reviewers: Reviewers = None,
    as_json: Json = False,
) -> None:
    """Open items, oldest first: item id, partner, event id, reasons, received, age, verdicts so far.

    Example: gkt review list --bootstrap kafka:9092 --reason REFERENCE_UNKNOWN --older-than 7
    """
    from rich.console import Console
    from rich.table import Table

    from gateway.reasons import ReasonCode

    if reason is not None and reason not in {code.value for code in ReasonCode}:
        raise UsageError(f"--reason {reason}: not a reason code (docs/review.md lists those that hold a report)")
    if older_than is not None and older_than < 0:
        raise UsageError(f"--older-than {older_than:g}: a number of days, 0 or more")
    settings = _settings(config, bootstrap, topic_prefix, agreements=agreements, reviewers=reviewers)
    state, now = _state(settings), datetime.now(UTC)
    rows = [_item_json(item, state, now, settings.topic_prefix) for item in state.open_items()]
    # Reviewers' names are for people: shown here only (spec/review.md), never in the log or a signal.
    names = _reviewer_names(settings)
    for row in rows:
        for verdict in row["verdicts"]:
            verdict["name"] = names.name_of(verdict["reviewer"])
    rows = [
        row
        for row in rows
        if (reason is None or reason in row["reasons"])
        and (partner is None or row["partner"] == partner)
        and (older_than is None or (row["age_days"] or 0) > older_than)
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} open item(s) in quarantine")
    for column in ("item", "partner", "event id", "reasons", "received", "age (days)", "verdicts so far"):
        table.add_column(column)
    for row in rows:
        verdicts = ", ".join(
            f"{v['verdict']} by {v['reviewer']}" + (f" ({v['name']})" if v["name"] else "") for v in row["verdicts"]
        )
        table.add_row(
            row["item"],
            row["partner"] or "?",
            row["event_id"] or "(unreadable)",
            ", ".join(row["reasons"]),
            row["received_at"] or "?",
            str(row["age_days"]),
            verdicts or "none",
        )
    Console(width=None if Console().is_terminal else 200).print(table)


@review_app.command("show")
def show(
    item: ItemArg,
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
    agreements: Agreements = None,
    reviewers: Reviewers = None,
    reference: Reference = None,
    allow_test_oins: AllowTestOins = None,
    as_json: Json = False,
) -> None:
    """The held event in full, why it is held, its rules, the verdicts so far, and what a release would do now.

    "What a release would do now" decides the report again with its review flag lifted and
    today's reference data: the destination, or what would still hold it.

    Example: gkt review show gkt.in.kvk/0/17 --bootstrap kafka:9092
    """
    from gateway.kafka.security import client_options
    from gateway.review.desk import held_event, held_report, release_now, resolve
    from gateway.rules_loader import load_rules

    settings = _settings(
        config,
        bootstrap,
        topic_prefix,
        agreements=agreements,
        reviewers=reviewers,
        reference=reference,
        allow_test_oins=allow_test_oins,
    )
    client = client_options(settings)
    assert settings.bootstrap
    state = _state(settings)
    found = resolve(state, item)
    rules = load_rules(settings)
    if settings.reference is None:
        rules = _with_reference_topic(rules, settings)
    quarantined = asyncio.run(held_event(settings.bootstrap, rules.topics, found, **client))
    report = asyncio.run(held_report(settings.bootstrap, found, **client))
    if report is None:
        now = "the report is no longer on its inbound topic: it can only be discarded"
    elif state.closed(found.position):
        now = "nothing: the item is closed"
    else:
        decision = release_now(report, rules)
        now = (
            f"route to {decision.destination}"
            if decision.outcome.value == "routed"
            else "stay held: " + ", ".join(f"{r.code.value} ({r.detail})" for r in decision.reasons)
        )
    shown = {
        **_item_json(found, state, datetime.now(UTC), settings.topic_prefix),
        "decided_at": found.decided_at,
        "audit": {"chain": found.chain, "seq": found.seq},
        "rules": {k: v for k, v in found.versions.items() if k != "reference"},
        "release_now": now,
        # From the quarantine record; when its retention passed, from the report's own bytes.
        "event": (quarantined or {}).get("event") or (_event_of(report) if report else None),
    }
    if as_json:
        typer.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    from rich.console import Console

    console = Console(width=None if Console().is_terminal else 200)
    for name in ("item", "status", "partner", "event_id", "reasons", "received_at", "age_days", "decided_at"):
        console.print(f"[bold]{name}[/bold]: {plain(shown[name])}", soft_wrap=True, highlight=False)
    console.print(f"[bold]decided under[/bold]: {plain(shown['rules'])}", soft_wrap=True, highlight=False)
    verdicts = ", ".join(f"{v['verdict']} by {v['reviewer']} ({v['outcome']})" for v in shown["verdicts"])
    console.print(f"[bold]verdicts so far[/bold]: {verdicts or 'none'}", soft_wrap=True)
    console.print(f"[bold]a release now would[/bold]: {now}", soft_wrap=True)
    console.print("[bold]event[/bold]:")
    console.print_json(data=shown["event"])


def _event_of(report: "InboundRecord") -> Any:
    from contracts.jsonio import strict_loads

    try:
        return strict_loads(report.value or b"")
    except ValueError:
        return None  # a record the gateway could not read: nothing to show but its position


def _with_reference_topic(rules: "Rules", settings: "Settings") -> "Rules":
    """The rules with the reference topic's current data (what the gateway routes with now)."""
    import dataclasses

    from gateway.kafka.follower import read_once
    from gateway.kafka.security import client_options
    from routing.reference import ReferenceTable

    table = ReferenceTable()

    def apply(record: "InboundRecord") -> None:
        table.apply(record.key, record.value)  # an invalid record is left out, as the gateway does

    assert settings.bootstrap
    asyncio.run(read_once(settings.bootstrap, rules.topics.reference, apply, **client_options(settings)))
    return dataclasses.replace(rules, reference=table)


def _verdict(
    kind: str,
    item: str,
    key: Path,
    kid: str,
    reviewer: str,
    grounds: str | None,
    config: Path | None,
    bootstrap: str | None,
    topic_prefix: str | None,
    timeout: float,
    as_json: bool,
    **shared: Any,
) -> None:
    from contracts.jsonio import dumps
    from gateway.kafka.security import client_options
    from gateway.review.desk import resolve, send_and_wait
    from gateway.review.verdict import MAX_GROUNDS, Verdict, VerdictKind
    from gateway.signing import load_private_key, sign_detached
    from gateway.topics import Topics

    if grounds is None and kind != "recheck":
        raise UsageError(f"--grounds is required for {kind}: say why, 1 to {MAX_GROUNDS} characters")
    if grounds is not None and not 1 <= len(grounds) <= MAX_GROUNDS:
        raise UsageError(f"--grounds must be 1 to {MAX_GROUNDS} characters")
    private, alg = load_private_key(key, kid)  # a file that is no private key: exit 2, before Kafka is asked
    settings = _settings(config, bootstrap, topic_prefix, **shared)
    assert settings.bootstrap
    found = resolve(_state(settings), item)
    verdict = Verdict(found.position, found.digest, VerdictKind(kind), grounds, reviewer, datetime.now(UTC))
    signature = sign_detached(dumps(verdict.as_json()), private, kid, alg)
    position, audit = asyncio.run(
        send_and_wait(
            settings.bootstrap, Topics(settings.topic_prefix), verdict, signature, timeout, **client_options(settings)
        )
    )
    outcome = audit["outcome"]
    shown = {
        "verdict": str(position),
        "item": str(found.position),
        "outcome": outcome,
        "reasons": audit["reasons"],
        "destination": (audit.get("destination") or {}).get("topic"),
        "audit": {"chain": audit["chain"], "seq": audit["seq"]},
    }
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
    else:
        typer.echo(f"{kind} of {found.position} by {reviewer}: {outcome}")
        for reason in audit["reasons"]:  # VERDICT_INVALID and the others say why (docs/review.md)
            typer.echo(f"  {reason['code']}: {reason['detail']}" if reason.get("detail") else f"  {reason['code']}")
        if shown["destination"]:
            typer.echo(f"  the signal went to {shown['destination']}")
        if outcome == "pending" and not audit["reasons"]:
            typer.echo("  a second reviewer's verdict decides it")
        typer.echo(f"  audit: {audit['chain']} seq {audit['seq']}")
    raise typer.Exit(1 if outcome == "rejected" else 0)


def _verdict_command(kind: str, summary: str, example: str) -> None:
    """``release``, ``discard`` and ``recheck``: one set of options, one path (``_verdict``)."""

    def command(
        item: ItemArg,
        key: Key,
        kid: Kid,
        reviewer: ReviewerId,
        grounds: Grounds = None,
        config: Config = None,
        bootstrap: Bootstrap = None,
        topic_prefix: TopicPrefix = None,
        agreements: Agreements = None,
        reviewers: Reviewers = None,
        reference: Reference = None,
        allow_test_oins: AllowTestOins = None,
        timeout: Timeout = 60.0,
        as_json: Json = False,
    ) -> None:
        shared = {"agreements": agreements, "reviewers": reviewers, "reference": reference}
        _verdict(
            kind, item, key, kid, reviewer, grounds, config, bootstrap, topic_prefix, timeout, as_json,
            **shared, allow_test_oins=allow_test_oins,
        )  # fmt: skip

    command.__doc__ = f"{summary}\n\nExample: gkt review {kind} {example}"
    review_app.command(kind)(command)


_WHO = "--key me.pem --kid r-0142-2026 --reviewer r-0142"
_verdict_command(
    "release",
    "Sign and publish a release; released once two different reviewers gave it (a third settles a disagreement).",
    f'gkt.in.kvk/0/17 {_WHO} --grounds "pilot review: report matches the register"',
)
_verdict_command(
    "discard",
    "Sign and publish a discard; discarded once two different reviewers gave it (a third settles a disagreement).",
    f'gkt.in.kvk/0/17 {_WHO} --grounds "not about false self-employment"',
)
_verdict_command(
    "recheck",
    "Ask the gateway to route the report again with today's reference data; one reviewer is enough.\n\n"
    "The rules decide, not the reviewer: a REVIEW_REQUIRED hold is never lifted by a recheck.",
    f"gkt.in.nla/1/230 {_WHO}",
)
