"""``nl.nla.schijnzelfstandigheid`` 2.0: the whole chain, and the source of every indicator.

As 1.1, except: ``intermediair`` is replaced by ``keten`` (0-10 intermediaries,
client to worker), and every indicator requires ``bron``. A new major version:
1.x events are not valid here.
"""

from typing import Annotated, Literal

from pydantic import Field

from contracts.base import IndicatorGround, Party, ReportContract
from contracts.reports.nla_parts import REPORT_TYPE, IndicatorEntry, Intermediair, NlaReportBase


class BronIndicator(IndicatorEntry):
    bron: Literal["waarneming", "verklaring", "document"]

    def ground(self, index: int, bron: str | None = None) -> IndicatorGround:
        return super().ground(index, bron or self.bron)


class NlaReport20(NlaReportBase):
    # Narrower than 1.x's list; pydantic validates each version's own field, so the list is never mixed.
    indicatoren: Annotated[list[BronIndicator], Field(min_length=1, max_length=12)]  # type: ignore[assignment]
    keten: Annotated[list[Intermediair], Field(default_factory=list, max_length=10)]

    def chain(self) -> list[Party]:
        return [link.as_party() for link in self.keten]


CONTRACT = ReportContract(
    type=REPORT_TYPE,
    version="2.0",
    model=NlaReport20,
    summary="Inspection report of the Arbeidsinspectie, with the whole chain and evidence sources",
)
