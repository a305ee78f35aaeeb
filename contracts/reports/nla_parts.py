"""Parts of the NLA report (``nl.nla.schijnzelfstandigheid``) shared by its versions."""

from datetime import date
from typing import Annotated, Literal, Self

from pydantic import Field, StrictBool, field_validator, model_validator
from pydantic_core import PydanticCustomError

from contracts.base import ContractModel, IndicatorGround, Party, ReportSubject, Substantiation, distinct_functies
from contracts.fields import (
    Bsn,
    BtwId,
    IndicatorCode,
    IsoDate,
    KvkNummer,
    Loonheffingennummer,
    Oordeel,
    ReportDate,
    Rsin,
    Vestigingsnummer,
    distinct_codes,
    text,
)

REPORT_TYPE = "nl.nla.schijnzelfstandigheid"


class Opdrachtgever(ContractModel):
    kvkNummer: KvkNummer
    naam: text(1, 200)  # type: ignore[valid-type]
    vestigingsnummer: Vestigingsnummer | None = None
    rsin: Rsin | None = None
    loonheffingennummer: Loonheffingennummer | None = None
    btwId: BtwId | None = None

    def as_signal(self) -> dict[str, str | None]:
        return {
            "kvkNummer": self.kvkNummer,
            "naam": self.naam,
            "rsin": self.rsin,
            "loonheffingennummer": self.loonheffingennummer,
            "vestigingsnummer": self.vestigingsnummer,
            "btwId": self.btwId,
        }


class Opdrachtnemer(ContractModel):
    functie: text(1, 100)  # type: ignore[valid-type]
    bsn: Bsn | None = None
    kvkNummer: KvkNummer | None = None


class Periode(ContractModel):
    van: IsoDate
    tot: IsoDate

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.van > self.tot:
            raise PydanticCustomError("period_order", "van must not be after tot")
        return self


class IndicatorEntry(ContractModel):
    code: IndicatorCode
    toelichting: text(0, 1000) | None = None  # type: ignore[valid-type]

    def ground(self, index: int, bron: str | None = None) -> IndicatorGround:
        """The indicator as the signal's ``onderbouwing`` carries it; ``index``: its place in ``indicatoren``."""
        return IndicatorGround(self.code.value, bron, self.toelichting, ("indicatoren", index, "toelichting"))


class Intermediair(ContractModel):
    """A business between client and worker (1.1: ``intermediair``; 2.0: each link of ``keten``)."""

    kvkNummer: KvkNummer
    naam: text(1, 200)  # type: ignore[valid-type]
    rol: Literal["bemiddelaar", "uitlener", "platform"]

    def as_party(self) -> Party:
        return Party(self.kvkNummer, self.naam, self.rol)


class NlaReportBase(ContractModel):
    """Fields of 1.0; later versions extend this."""

    zaakReferentie: text(1, 64)  # type: ignore[valid-type]
    inspectieDatum: ReportDate
    opdrachtgever: Opdrachtgever
    opdrachtnemers: Annotated[list[Opdrachtnemer], Field(min_length=1, max_length=1000)]
    periode: Periode
    # 2.0 narrows it to indicators with a source. A list, not a Sequence: pydantic checks a list in its
    # compiled core and a Sequence in Python (a tenth of the contract stage's time, bench.profile).
    indicatoren: Annotated[list[IndicatorEntry], Field(min_length=1, max_length=12)]
    oordeel: Oordeel
    kwaadwillendheid: StrictBool = False
    toelichting: text(0, 4000) | None = None  # type: ignore[valid-type]

    @field_validator("indicatoren")
    @classmethod
    def _indicatoren(cls, value: list[IndicatorEntry]) -> list[IndicatorEntry]:
        return distinct_codes(value, lambda entry: entry.code.value)

    def chain(self) -> list[Party]:
        """The intermediaries between client and worker; none in 1.0."""
        return []

    def subject(self, received_on: date) -> ReportSubject:
        return ReportSubject(
            referentie=self.zaakReferentie,
            opdrachtgever=self.opdrachtgever.as_signal(),
            keten=self.chain(),
            aantal_opdrachtnemers=len(self.opdrachtnemers),
            bsns=[n.bsn for n in self.opdrachtnemers if n.bsn is not None],
            kvk_nummers=[n.kvkNummer for n in self.opdrachtnemers if n.kvkNummer is not None],
            periode_van=self.periode.van,
            periode_tot=self.periode.tot,
            indicatoren=[entry.code.value for entry in self.indicatoren],
            oordeel=self.oordeel,
            kwaadwillendheid=self.kwaadwillendheid,
        )

    def substantiation(self) -> Substantiation:
        return Substantiation(
            inspectie_datum=self.inspectieDatum,
            functies=distinct_functies([n.functie for n in self.opdrachtnemers]),
            indicatoren=tuple(entry.ground(index) for index, entry in enumerate(self.indicatoren)),
            toelichting=self.toelichting,
        )
