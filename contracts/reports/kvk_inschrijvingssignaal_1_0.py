"""``nl.kvk.inschrijvingssignaal`` 1.0: a starter names its former employer as sole client."""

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from contracts.base import ContractModel, IndicatorGround, ReportContract, ReportSubject, Substantiation, client_only
from contracts.fields import KvkNummer, Oordeel, ReportDate, distinct_codes, text

KvkIndicator = Literal[
    "EEN_OPDRACHTGEVER",
    "EERDER_IN_DIENST",
    "GEEN_ONDERNEMERSGEDRAG",
    "LANGDURIG",
    "TARIEF_EENZIJDIG",
]


class Inschrijving(ContractModel):
    kvkNummer: KvkNummer
    datum: ReportDate  # the signal's onderbouwing.inspectieDatum: a registration names no period of work
    rechtsvorm: Literal["eenmanszaak", "vof", "maatschap"]
    sbiCode: Annotated[str, StringConstraints(pattern=r"^[0-9]{2,5}$")] | None = None


class KvkOpdrachtgever(ContractModel):
    kvkNummer: KvkNummer
    naam: text(1, 200)  # type: ignore[valid-type]


class KvkReport10(ContractModel):
    signaalReferentie: text(1, 64)  # type: ignore[valid-type]
    inschrijving: Inschrijving
    opdrachtgever: KvkOpdrachtgever
    indicatoren: Annotated[list[KvkIndicator], Field(min_length=1, max_length=12)]
    oordeel: Oordeel
    toelichting: text(0, 4000) | None = None  # type: ignore[valid-type]

    @field_validator("indicatoren")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return distinct_codes(value, str)

    def subject(self, received_on: date) -> ReportSubject:
        # spec/selection.md: a registration says nothing about when work was done, so no period;
        # the registered business is the one worker, known by its KVK-nummer.
        return ReportSubject(
            referentie=self.signaalReferentie,
            opdrachtgever=client_only(self.opdrachtgever.kvkNummer, self.opdrachtgever.naam),
            keten=[],
            aantal_opdrachtnemers=1,
            bsns=[],
            kvk_nummers=[self.inschrijving.kvkNummer],
            periode_van=None,
            periode_tot=None,
            indicatoren=list(self.indicatoren),
            oordeel=self.oordeel,
            kwaadwillendheid=False,
        )

    def substantiation(self) -> Substantiation:
        return Substantiation(
            inspectie_datum=self.inschrijving.datum,
            indicatoren=tuple(IndicatorGround(code) for code in self.indicatoren),
            toelichting=self.toelichting,
        )


CONTRACT = ReportContract(
    type="nl.kvk.inschrijvingssignaal",
    version="1.0",
    model=KvkReport10,
    summary="Registration signal of the Kamer van Koophandel",
)
