"""``gkt audit``: verify, replay and export the audit log (spec/audit.md)."""

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gateway.cli.options import Agreements, AllowTestOins, Bootstrap, Config, Reviewers, TopicPrefix
from gateway.cli.options import settings as settings_for
from gateway.cli.plain import plain
from gateway.cli.progress import progress as progress_for
from gateway.errors import UsageError
from gateway.kafka.security import client_options

if TYPE_CHECKING:
    from gateway.audit.verify import VerifyReport
    from gateway.inbound import InboundRecord
    from gateway.keyset import KeySet
    from gateway.settings import Settings
    from gateway.witness.contained import Claims

audit_app = typer.Typer(help="The audit log: verify, replay, export.", no_args_is_help=True)

File = Annotated[Path | None, typer.Option("--file", help="an export (JSON Lines) instead of Kafka")]
Keys = Annotated[Path | None, typer.Option("--keys", help="JWK set of the gateway's public keys")]
Json = Annotated[bool, typer.Option("--json", help="one JSON object on stdout, for scripts")]


@audit_app.command("verify")
def verify(
    file: File = None,
    keys: Keys = None,
    inbound: Annotated[
        bool, typer.Option("--inbound/--no-inbound", help="check every inbound offset has its decision (Kafka only)")
    ] = True,
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
    agreements: Agreements = None,
    reviewers: Reviewers = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="processes checking chains at once (default: one per core)"),
    ] = None,
    witnesses: Annotated[
        Path | None,
        typer.Option("--witnesses", help="the witnesses' public keys, one per line (gkt witness --print-vkey)"),
    ] = None,
    checkpoints: Annotated[
        Path | None,
        typer.Option("--checkpoints", help="with --file: an export of gkt.checkpoints and gkt.witness"),
    ] = None,
    as_json: Json = False,
) -> None:
    """Check every chain: seq, links, hashes, signatures (key valid at decided_at), increasing offsets; with
    --witnesses, that no chain is shorter than a checkpoint a witness cosigned (spec/witness.md).

    Exit 0 when everything verifies, 1 when anything is wrong.
    Example: gkt audit verify --file audit-2025.jsonl --keys gateway-keys.json --checkpoints cp.jsonl --witnesses w.txt
    """
    from gateway.audit.parallel import verify_export
    from gateway.audit.sources import inbound_offsets, line_count
    from gateway.audit.verify import ChainVerifier
    from gateway.kafka.follower import read_once
    from gateway.keyset import KeySet
    from gateway.rules_loader import load_keyset, load_rules

    settings = settings_for(
        config, bootstrap=bootstrap, topic_prefix=topic_prefix, agreements=agreements, reviewers=reviewers
    )
    keyset = KeySet.load(keys) if keys else load_keyset(settings)
    verifier = ChainVerifier(keyset)
    console = Console(stderr=True)
    if checkpoints is not None and file is None:
        raise UsageError("--checkpoints goes with --file; from Kafka, gkt.checkpoints and gkt.witness are read")
    claims = _claims(settings, keyset, file, checkpoints, witnesses)
    claims.expect(verifier)

    with progress_for(console) as progress:
        task = progress.add_task("verifying", total=None)
        if file is not None:
            if not file.is_file():
                raise UsageError(f"{file}: no such export file")
            progress.update(task, total=line_count(file))  # the total to show
            # Chains are independent: one process per core checks its share of them.
            verify_export(file, keyset, workers, lambda done: progress.update(task, completed=done), verifier=verifier)
        else:
            if not settings.bootstrap:
                raise UsageError("give --file, or --bootstrap to read the audit log from Kafka")
            rules = load_rules(settings)

            def from_kafka(record: "InboundRecord") -> None:
                verifier.feed_bytes(record.value or b"", str(record.position))
                progress.advance(task)

            def sized(total: int) -> None:
                progress.update(task, total=total)  # known after the first fetch: its high watermarks

            asyncio.run(
                read_once(settings.bootstrap, rules.topics.audit, from_kafka, sized, **client_options(settings))
            )
            if inbound:
                # Every inbound record, verdict and feedback step has its decision (spec/review.md, selection.md).
                topics = [
                    *(rules.topics.inbound(p) for p in rules.agreements.partners()),
                    rules.topics.review,
                    rules.topics.terugkoppeling,
                ]
                present = asyncio.run(inbound_offsets(settings.bootstrap, topics, **client_options(settings)))
                for chain, offsets in sorted(present.items()):
                    verifier.missing(chain, offsets)
    report = claims.finish(verifier)
    coverage = _coverage(report, claims, witnesses is not None)
    if as_json:
        typer.echo(json.dumps({**report.as_json(), "witnessed": coverage}, indent=2))
    else:
        _print_report(report, coverage)
    raise typer.Exit(0 if report.ok else 1)


def _claims(
    settings: "Settings", keyset: "KeySet", file: Path | None, checkpoints: Path | None, witnesses: Path | None
) -> "Claims":
    """The checkpoints at hand (from Kafka, or the ``--checkpoints`` export), and which a known witness cosigned."""
    from gateway.topics import Topics
    from gateway.witness.checkpoint import gateway_verifiers
    from gateway.witness.contained import Claims, export_notes, load_witnesses
    from gateway.witness.round import read_claims

    known = load_witnesses(witnesses) if witnesses is not None else []
    gateway = gateway_verifiers(keyset, settings.origin)
    if file is None and settings.bootstrap:
        topics, client = Topics(settings.topic_prefix), client_options(settings)
        return asyncio.run(read_claims(settings.bootstrap, topics, settings.origin, gateway, known, **client))
    claims = Claims()
    for note in export_notes(checkpoints) if checkpoints is not None else ():
        claims.add(note, settings.origin, gateway, known)
    return claims


def _coverage(report: "VerifyReport", claims: "Claims", with_witnesses: bool) -> dict[str, Any]:
    """What the checkpoints could prove of this log: which chains a witness vouches for, and what is left open."""
    chains = sorted(report.chains)
    cosigned = {chain: list(claim.witnesses) for chain, claim in sorted(claims.cosigned.items())}
    if not with_witnesses:
        open_ = "without --witnesses, a chain cut after its last checkpoint, or left out whole, cannot be detected"
    elif uncovered := [c for c in chains if c not in cosigned]:
        open_ = f"no witness cosigned a checkpoint of {', '.join(uncovered)}: a cut there cannot be detected"
    else:
        open_ = "records written after each chain's last cosigned checkpoint are vouched for by the gateway alone"
    return {"cosigned": cosigned, "gateway_signed": len(claims.signed), "not_detectable": open_}


def _print_report(report: "VerifyReport", coverage: dict[str, Any]) -> None:
    from gateway.audit.verify import plain

    console = Console(width=None if Console().is_terminal else 140)
    table = Table(title="audit log")
    for column in ("chain", "records", "verified", "status"):
        table.add_column(column)
    broken = {p.chain: p for p in report.problems}
    for chain, state in sorted(report.chains.items()):
        problem = broken.get(chain)
        status = f"[red]{problem.kind}[/red]" if problem else "[green]verified[/green]"
        table.add_row(chain, str(state.records), str(state.verified), status)
    console.print(table)
    outcomes = ", ".join(f"{n} {o}" for o, n in sorted(report.outcomes.items()))
    console.print(
        f"{len(report.chains)} chains, {report.records} records, {report.verified} verified ({outcomes or 'none'})"
    )
    for problem in report.problems:
        where = f"{problem.chain} seq {problem.seq}" if problem.seq is not None else problem.chain
        console.print(f"[red]{problem.kind}[/red]: {where}: {problem.what}", soft_wrap=True)
        console.print(f"  in words: {plain(problem)}", soft_wrap=True)
    if coverage["cosigned"]:
        named = sorted({w for names in coverage["cosigned"].values() for w in names})
        console.print(f"witnessed: {len(coverage['cosigned'])} chains cosigned by {', '.join(named)}", soft_wrap=True)
    console.print(f"[yellow]not detectable[/yellow]: {coverage['not_detectable']}", soft_wrap=True)
    if report.ok:
        console.print("[green]every chain verifies[/green]")
    console.print(
        "hash: a fingerprint of a record; any change to it gives another hash. prev: the hash of the record "
        "before, so records cannot be changed, inserted or reordered unnoticed. sig: the gateway's signature on "
        "the last record of each write, which vouches for it and, through prev, for every record before it. "
        "A checkpoint a witness cosigned says how long a chain was: only against it can removing the last "
        "records, or a whole chain, be noticed.",
        soft_wrap=True,
        style="dim",
    )


@audit_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="the JSON Lines file to write")],
    checkpoints: Annotated[
        Path | None,
        typer.Option("--checkpoints", help="also write gkt.checkpoints and gkt.witness here (a note per line)"),
    ] = None,
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
) -> None:
    """Write the audit log as JSON Lines, for archiving and offline verification.

    Example: gkt audit export --out audit-2025.jsonl --checkpoints checkpoints-2025.jsonl --bootstrap kafka:9092
    """
    from gateway.kafka.follower import read_once
    from gateway.topics import Topics

    settings = settings_for(config, bootstrap=bootstrap, topic_prefix=topic_prefix)
    if not settings.bootstrap:
        raise UsageError("--bootstrap is required: the audit log lives in Kafka")
    topics = Topics(settings.topic_prefix)
    count = 0
    with out.open("wb") as handle, progress_for(Console(stderr=True)) as progress:
        task = progress.add_task("exporting", total=None)

        def write(record: "InboundRecord") -> None:
            nonlocal count
            handle.write((record.value or b"") + b"\n")
            count += 1
            progress.advance(task)

        def sized(total: int) -> None:
            progress.update(task, total=total)

        asyncio.run(read_once(settings.bootstrap, topics.audit, write, sized, **client_options(settings)))
    typer.echo(f"exported {count} audit records to {out}")
    if checkpoints is not None:
        notes = 0
        with checkpoints.open("w", encoding="utf-8") as lines:

            def note(record: "InboundRecord") -> None:
                nonlocal notes
                # One JSON string a line: a note spans lines. Bytes that are no UTF-8 stay visible as escapes.
                lines.write(json.dumps((record.value or b"").decode("utf-8", errors="surrogateescape")) + "\n")
                notes += 1

            for topic in (topics.checkpoints, topics.witness):
                asyncio.run(read_once(settings.bootstrap, topic, note, **client_options(settings)))
        typer.echo(f"exported {notes} checkpoints and cosigned checkpoints to {checkpoints}")


@audit_app.command("replay")
def replay(
    explain: Annotated[str | None, typer.Option("--explain", help="print one decision stage by stage")] = None,
    reference: Annotated[
        Path | None,
        typer.Option("--reference", help="reference data as JSON Lines (default: the reference topic's history)"),
    ] = None,
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
    agreements: Agreements = None,
    reviewers: Reviewers = None,
    allow_test_oins: AllowTestOins = None,
    as_json: Json = False,
) -> None:
    """Decide every still-available inbound record again under the versions its audit record names, and compare.

    Exit 0 when every decision is reproduced, 1 on any difference.
    Example: gkt audit replay --bootstrap kafka:9092 --explain 7f1c3a9e-5b1d-4c47-9d8a-2f3e4b5c6d7e
    """
    from gateway.audit.replay import Replayer
    from gateway.audit.sources import load_for_replay
    from gateway.rules_loader import folders, load_rules

    settings = settings_for(
        config,
        bootstrap=bootstrap,
        topic_prefix=topic_prefix,
        agreements=agreements,
        reviewers=reviewers,
        reference=reference,
        allow_test_oins=allow_test_oins,
    )
    if not settings.bootstrap:
        raise UsageError("--bootstrap is required: replay reads the audit log and the inbound topics")
    rules = load_rules(settings)
    searched = "; ".join(f"{name} {folder}" for name, folder in folders(settings).items())
    typer.echo(f"gkt: each record under the versions its audit record names, from {searched}", err=True)
    audit, inbound, reference_at = asyncio.run(
        load_for_replay(settings.bootstrap, rules, settings.reference, **client_options(settings))
    )
    replayer = Replayer(rules, audit, reference_at)
    if explain is not None:
        _explain(replayer, explain, inbound)
        return
    console = Console(width=None if Console().is_terminal else 140)
    with progress_for(Console(stderr=True)) as progress:
        task = progress.add_task("replaying", total=len(audit))
        report = replayer.run(inbound, lambda: progress.advance(task))
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2, default=str))
        raise typer.Exit(0 if report.ok else 1)
    console.print(
        f"{report.identical} identical, {len(report.differences)} differences, "
        f"{len(report.unverifiable)} unverifiable, {report.unavailable} no longer on the inbound topics"
    )
    for difference in report.differences:
        event = f" (event {difference.event_id})" if difference.event_id else ""
        console.print(
            f"[red]different[/red]: {difference.chain} seq {difference.seq}{event}: "
            f"{difference.field}: recorded {plain(difference.recorded)}, replayed {plain(difference.replayed)}",
            soft_wrap=True,
            highlight=False,
        )
    if not report.ok and not settings.allow_test_oins and (testing := _test_oin_sources(audit)):
        console.print(
            f"hint: {testing} decisions in this log are of reports from test OINs (prefix 99), which the gateway "
            "that wrote it accepted: replay them with --allow-test-oins (the differences above may be only that)",
            soft_wrap=True,
        )
    for line in report.unverifiable:
        console.print(f"[red]unverifiable[/red]: {line}", soft_wrap=True)
    if settings.reference is None and any(d.field == "versions.reference" for d in report.differences):
        console.print(
            "hint: without --reference, replay uses the reference topic's history as the gateway saw it; on a "
            "compacted topic old versions are gone. Give --reference FILE.jsonl with the data of the time.",
            soft_wrap=True,
        )
    raise typer.Exit(0 if report.ok else 1)


def _test_oin_sources(audit: list[dict[str, Any]]) -> int:
    """How many audit records decided a report whose source carries a test OIN."""
    from validators.identifiers import is_test_oin

    sources = ((record.get("event") or {}).get("source") for record in audit)
    return sum(
        1
        for source in sources
        if isinstance(source, str) and source.startswith("urn:nld:oin:") and is_test_oin(source[12:32])
    )


def _explain(replayer, event_id: str, inbound) -> None:  # type: ignore[no-untyped-def]
    from gateway.audit.replay import compare, position_of
    from gateway.pipeline import Step

    records = [r for r in replayer.audit if (r.get("event") or {}).get("id") == event_id]
    if not records:
        raise UsageError(f"no decision in the audit log for event id {event_id!r}")
    different = False
    for record in records:
        position = position_of(record)
        typer.echo(
            f"event {event_id} at {position}, audit {record['chain']} seq {record['seq']}: recorded {record['outcome']}"
        )
        found = inbound.get(position)
        if found is None:
            typer.echo("  the inbound record is no longer on its topic (retention): it cannot be decided again")
            continue
        trace: list[Step] = []
        decision = replayer.decide(record, found, trace)
        if isinstance(decision, str):
            typer.echo(f"  unverifiable: {decision}")
            different = True
            continue
        for step in trace:
            mark = "pass" if step.passed else "FAIL"
            typer.echo(f"  {mark}  {step.stage.value:12} {step.checked}")
            for reason in step.reasons:
                typer.echo(f"        {reason.code.value} {reason.path or ''} {reason.detail}".rstrip())
        differences = list(compare(record, decision))
        different = different or bool(differences)
        verdict = "identical to the recorded decision" if not differences else "DIFFERENT from the recorded decision"
        typer.echo(f"  replayed {decision.outcome.value}: {verdict}")
        for difference in differences:
            typer.echo(f"    {difference.field}: recorded {difference.recorded!r}, replayed {difference.replayed!r}")
    raise typer.Exit(1 if different else 0)
