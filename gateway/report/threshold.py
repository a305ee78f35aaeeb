"""Figures that may leave the Belastingdienst hide small counts (spec/selection.md): fiscal secrecy.

A count under 10 is shown as ``<10``, so that no figure points at one client;
a median or longest wait over fewer than 10 records is hidden the same way
(a median of three waits is three clients' waits).
"""

from dataclasses import replace

from gateway.report.figures import Cell, Table

THRESHOLD = 10
HIDDEN = "<10"


def hide_small(table: Table) -> Table:
    """``table`` with every count under ``THRESHOLD``, and every figure over fewer records, shown as ``<10``."""
    counts = [table.columns.index(name) for name in table.counts]
    sizes = [table.columns.index(name) for name in table.sizes]
    size_of = counts[-1] if counts else None  # the last count is how many records a row's figures are over
    rows = []
    for row in table.rows:
        cells: list[Cell] = list(row)
        small = size_of is not None and _under(row[size_of])
        for index in counts:
            if _under(row[index]):
                cells[index] = HIDDEN
        for index in sizes:
            if small:
                cells[index] = HIDDEN
        rows.append(tuple(cells))
    return replace(table, rows=rows)


def _under(cell: Cell) -> bool:
    return isinstance(cell, int) and cell < THRESHOLD
