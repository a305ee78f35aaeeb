"""The summary a partner gets on its feedback topic (spec/selection.md): its own figures, small counts hidden.

A CloudEvent of type ``nl.belastingdienst.gkt.terugkoppeling.samenvatting``,
signed by the gateway like a receipt (header ``gkt-signature``), so a partner
verifies it with the keys it already pins. Its id is a UUID v5 of partner,
window and period, so publishing the same summary twice gives one id.
"""

import uuid
from datetime import datetime
from typing import Any

from contracts.jsonio import utc_iso
from gateway.report.figures import Table, Window

SUMMARY_TYPE = "nl.belastingdienst.gkt.terugkoppeling.samenvatting"
_NAMESPACE = uuid.UUID("6b0f3f4e-2c1d-5e8a-9a47-0c3b8f1d2e55")


def summary_event(window: Window, tables: list[Table], source: str, now: datetime) -> dict[str, Any]:
    """The CloudEvent for ``window`` (one partner's) over ``tables`` (already through ``hide_small``)."""
    assert window.partner is not None, "a summary is one partner's"
    name = f"{window.partner}/{window.first.isoformat()}/{window.last.isoformat()}/{window.by}"
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid5(_NAMESPACE, name)),
        "source": source,
        "type": SUMMARY_TYPE,
        "time": utc_iso(now),
        "datacontenttype": "application/json",
        "data": {
            "partner": window.partner,
            "van": window.first.isoformat(),
            "tot": window.last.isoformat(),
            "per": window.by,
            "drempel": "aantallen onder 10 als <10",
            "tabellen": {table.name: as_json(table) for table in tables},
        },
    }


def as_json(table: Table) -> dict[str, Any]:
    """One table for scripts: its title and rows as objects (column: value)."""
    return {"title": table.title, "rows": [dict(zip(table.columns, row, strict=True)) for row in table.rows]}
