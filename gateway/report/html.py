"""``gkt report --html FILE``: one self-contained page, a chart per table and the table itself beneath it.

No network, no CDN, no script: the charts are SVG drawn by matplotlib and
embedded inline, the style sheet is in the page. Every figure is in an HTML
table too, so the page reads well without the charts (a screen reader, a
printout, a mail client that drops SVG). Counts shown as ``<10`` are not drawn.
"""

import html
import io
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from gateway.report.figures import Cell, Table, Window
from gateway.report.render import header

matplotlib.rcParams.update({"svg.fonttype": "path", "svg.hashsalt": "gkt-report", "font.size": 9})

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2.5rem; }
figure { margin: 0.5rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption, .note { color: #555; font-size: 0.85rem; }
table { border-collapse: collapse; margin-top: 0.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
"""


def page(window: Window, tables: list[Table], records: int, *, threshold: bool) -> str:
    """The whole page as text."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>GKT figures {html.escape(window.first.isoformat())} to {html.escape(window.last.isoformat())}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(header(window, records))}</h1>",
    ]
    if threshold:
        parts.append('<p class="note">Counts under 10 are shown as &lt;10 and not drawn (fiscal secrecy).</p>')
    for table in tables:
        parts += [f'<section id="{table.name}">', f"<h2>{html.escape(table.title)}</h2>"]
        parts.append(_figure(table))
        parts.append(_html_table(table))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _figure(table: Table) -> str:
    """A bar chart of ``table`` (each figure column, per period, one bar per row key), as inline SVG."""
    if not table.rows:
        return '<p class="note">Nothing to draw in this window.</p>'
    keys = table.keys
    if keys:  # one figure per row key: the median where the table has one (days), else the count
        drawn = [table.sizes[0]] if table.sizes else [table.counts[0]]
    else:  # counts side by side, without their total (the last count)
        drawn = list(table.counts[:-1]) if len(table.counts) > 1 else list(table.counts)
    periods = sorted({str(row[0]) for row in table.rows})
    series: dict[str, dict[str, float]] = defaultdict(dict)
    for row in table.rows:
        cells = dict(zip(table.columns, row, strict=True))
        for figure in drawn:
            label = " / ".join(str(cells[k]) for k in keys) if keys else figure
            value = _number(cells[figure])
            if value is not None:
                series[label][str(cells["period"])] = value
    fig, axes = plt.subplots(figsize=(8, 3.2))
    width = 0.8 / max(1, len(series))
    for index, (label, values) in enumerate(sorted(series.items())):
        positions = [p + index * width for p in range(len(periods))]
        axes.bar(positions, [values.get(period, 0) for period in periods], width, label=label)
    axes.set_xticks([p + 0.4 - width / 2 for p in range(len(periods))], periods)
    axes.set_ylabel(drawn[0] if len(drawn) == 1 else "count")
    if all(name in table.counts for name in drawn):
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    if series:
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = out.getvalue()
    svg = svg[svg.index("<svg") :]  # inline: without the XML declaration and doctype
    label = html.escape(f"Bar chart: {table.title}, per period")
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return f'<figure class="chart">{svg}<figcaption>{label}; the table below has every figure.</figcaption></figure>'


def _html_table(table: Table) -> str:
    numeric = table.figures
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in table.columns)
    body = []
    for row in table.rows:
        cells = "".join(
            f'<td class="n">{_text(cell)}</td>' if column in numeric else f"<td>{_text(cell)}</td>"
            for column, cell in zip(table.columns, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(table.columns)}">none in this window</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _text(cell: Cell) -> str:
    return "-" if cell is None else html.escape(str(cell))


def _number(cell: Cell) -> float | None:
    return float(cell) if isinstance(cell, int | float) else None
