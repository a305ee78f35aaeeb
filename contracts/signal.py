"""The signal ``nl.belastingdienst.gkt.signaal`` 1.0: what detection consumers receive.

One shape whatever the partner and contract version (spec/contracts.md). The
gateway builds signals in gateway/outputs.py; this model is their published
schema, and the tests validate every built signal against it.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr

from contracts.fields import IsoDate

SIGNAL_TYPE = "nl.belastingdienst.gkt.signaal"
SIGNAL_VERSION = "1.0"


class _Signal(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Melding(_Signal):
    partner: StrictStr
    bron: StrictStr
    id: StrictStr
    type: StrictStr
    contractversie: StrictStr
    referentie: StrictStr
    ontvangenOp: StrictStr


class SignalOpdrachtgever(_Signal):
    kvkNummer: StrictStr
    naam: StrictStr
    rsin: StrictStr | None
    loonheffingennummer: StrictStr | None
    vestigingsnummer: StrictStr | None
    btwId: StrictStr | None


class Schakel(_Signal):
    kvkNummer: StrictStr
    naam: StrictStr
    rol: Literal["bemiddelaar", "uitlener", "platform"]


class Opdrachtnemers(_Signal):
    aantal: StrictInt
    bsns: list[StrictStr]
    kvkNummers: list[StrictStr]


class SignalPeriode(_Signal):
    van: IsoDate
    tot: IsoDate


class Handhaving(_Signal):
    segment: Literal["mkb", "go"]
    horizontaalToezicht: StrictBool
    correctieMogelijkVanaf: IsoDate
    periodeCorrigeerbaar: StrictBool
    boeteMogelijk: StrictBool
    modelovereenkomstTot: IsoDate | None
    beleid: StrictStr


class AuditRef(_Signal):
    chain: StrictStr
    seq: StrictInt


class Signal(_Signal):
    """``data`` of a signal CloudEvent."""

    signaalId: StrictStr
    melding: Melding
    opdrachtgever: SignalOpdrachtgever
    keten: list[Schakel]
    opdrachtnemers: Opdrachtnemers
    periode: SignalPeriode
    indicatoren: list[StrictStr]
    oordeel: Literal["zwaar_vermoeden", "vermoeden"]
    kwaadwillendheid: StrictBool
    handhaving: Handhaving
    audit: AuditRef
