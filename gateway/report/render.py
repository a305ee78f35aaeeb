"""``gkt report`` for people (rich tables), for spreadsheets (CSV, one tidy table) and for scripts (JSON)."""

import csv
import io
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from gateway.report.figures import Table, Window
from gateway.report.summary import as_json


def header(window: Window, records: int) -> str:
    who = f"partner {window.partner}" if window.partner else "all partners"
    return (
        f"GKT figures {window.first.isoformat()} to {window.last.isoformat()} (Dutch dates), per {window.by}, "
        f"{who}; from {records:,} verified audit records"
    )


def to_console(console: Console, window: Window, tables: list[Table], records: int) -> None:
    console.print(f"[bold]{header(window, records)}[/bold]")
    for table in tables:
        shown = RichTable(title=table.title, title_justify="left")
        for column in table.columns:
            shown.add_column(column, justify="right" if column in table.figures else "left")
        for row in table.rows:
            shown.add_row(*("-" if cell is None else str(cell) for cell in row))
        if not table.rows:
            shown.add_row(*(["(none)"] + [""] * (len(table.columns) - 1)))
        console.print(shown)


def to_json(window: Window, tables: list[Table], records: int) -> dict[str, Any]:
    return {
        "from": window.first.isoformat(),
        "to": window.last.isoformat(),
        "by": window.by,
        "partner": window.partner,
        "records": records,
        "tables": {table.name: as_json(table) for table in tables},
    }


def to_csv(tables: list[Table]) -> str:
    """Every figure as one row: table, period, the row's other keys as ``dimension=value``, figure, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "period", "dimensions", "figure", "value"])
    for table in tables:
        for row in table.rows:
            cells = dict(zip(table.columns, row, strict=True))
            dimensions = ";".join(f"{key}={cells[key]}" for key in table.keys)
            for figure in table.figures:
                writer.writerow([table.name, cells["period"], dimensions, figure, cells[figure]])
    return out.getvalue()
