"""Tables for people: what the demo did, one row per sample."""

from rich.console import Console
from rich.table import Table

from gateway.demo.run import DemoResult
from gateway.demo.witness_story import WITNESS_NAME
from gateway.report.render import to_console


def print_demo(result: DemoResult, console: Console | None = None) -> None:
    # Piped into a file or CI log, rich assumes 80 columns; the table needs more.
    console = console or Console()
    if not console.is_terminal:
        console = Console(width=150)
    table = Table(title="gkt demo: every sample report and what the gateway decided", show_lines=False)
    for column in ("#", "report", "partner", "outcome", "reasons", "destination", "ok"):
        table.add_column(column)
    for number, row in enumerate(result.rows, start=1):
        table.add_row(
            str(number),
            row.sample.label,
            row.sample.partner,
            row.outcome or "(none)",
            ", ".join(row.codes) or "-",
            row.destination or "-",
            "[green]yes[/green]" if row.as_expected else "[red]NO[/red]",
        )
    console.print(table)
    story = Table(title="the review story: verdicts on the quarantined samples (docs/review.md)")
    for column in ("#", "step", "held report", "reviewer", "verdict", "outcome", "reasons", "destination", "ok"):
        story.add_column(column)
    for number, step_row in enumerate(result.story, start=1):
        step = step_row.step
        story.add_row(
            str(number),
            step.label,
            step.sample,
            step.reviewer or "-",
            step.kind.value if step.kind else "-",
            step_row.outcome or "-",
            ", ".join(step_row.codes) or "-",
            step_row.destination or "-",
            "[green]yes[/green]" if step_row.as_expected else "[red]NO[/red]",
        )
    console.print(story)
    selection = result.selection
    colour = "green" if selection.as_expected else "red"
    console.print(f"[{colour}]{selection.line()}[/{colour}]")
    steps = Table(title="feedback from detection teams on bd.terugkoppeling (docs/feedback.md)")
    for column in ("#", "team", "status", "about", "outcome", "ok"):
        steps.add_column(column)
    for number, given in enumerate(result.feedback, start=1):
        ok = "[green]yes[/green]" if given.as_expected else "[red]NO[/red]"
        steps.add_row(str(number), given.team, given.status, given.signal, given.outcome or "(none)", ok)
    console.print(steps)
    window, tables = result.figures
    to_console(console, window, tables, result.audit.records)
    console.print("the same figures for a period of your choice: gkt report (docs/report.md)")
    audit = result.audit
    outcomes = ", ".join(f"{n} {o}" for o, n in sorted(audit.outcomes.items()))
    witnessed = result.witnessed
    console.print(
        f"witnessed: {WITNESS_NAME} cosigned the checkpoints of {len(witnessed.cosigned)} chains "
        f"({sum(witnessed.cosigned.values())} records); refused {len(witnessed.refused)} (docs/witness.md)"
    )
    if audit.ok:
        console.print(
            f"audit log verified with the witness: {len(audit.chains)} chains, {audit.records} records ({outcomes})"
        )
    else:
        for problem in audit.problems:
            console.print(f"[red]audit problem[/red] {problem.chain} seq {problem.seq}: {problem.kind}: {problem.what}")
    wrong = sum(not row.as_expected for row in result.rows)
    wrong_steps = sum(not row.as_expected for row in result.story)
    if result.ok:
        console.print(
            f"[green]all {len(result.rows)} samples and {len(result.story)} review steps got their expected "
            "outcome[/green]"
        )
    else:
        console.print(
            f"[red]{wrong} of {len(result.rows)} samples and {wrong_steps} of {len(result.story)} review steps did "
            "not get their expected outcome[/red]"
        )
