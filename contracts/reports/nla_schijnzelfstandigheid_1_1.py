"""``nl.nla.schijnzelfstandigheid`` 1.1: adds an optional intermediary (Handhavingsplan 3.2.7).

Insight in the whole chain matters where workers are hired through an
intermediary. A minor version: every event valid under 1.0 is valid here.
"""

from contracts.base import Party, ReportContract
from contracts.reports.nla_parts import REPORT_TYPE, Intermediair, NlaReportBase


class NlaReport11(NlaReportBase):
    intermediair: Intermediair | None = None

    def chain(self) -> list[Party]:
        return [self.intermediair.as_party()] if self.intermediair is not None else []


CONTRACT = ReportContract(
    type=REPORT_TYPE,
    version="1.1",
    model=NlaReport11,
    summary="Inspection report of the Arbeidsinspectie, with an optional intermediary",
)
