"""``nl.nla.schijnzelfstandigheid`` 1.0: the Arbeidsinspectie's inspection report."""

from contracts.base import ReportContract
from contracts.reports.nla_parts import REPORT_TYPE, NlaReportBase


class NlaReport10(NlaReportBase):
    """Version 1.0: exactly the shared NLA fields."""


CONTRACT = ReportContract(
    type=REPORT_TYPE,
    version="1.0",
    model=NlaReport10,
    summary="Inspection report of the Arbeidsinspectie",
)
