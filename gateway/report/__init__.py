"""``gkt report``: figures for the programme from the audit log (spec/selection.md, docs/report.md)."""
