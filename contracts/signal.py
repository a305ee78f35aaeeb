"""The signal ``nl.belastingdienst.gkt.signaal``: what detection consumers receive.

One shape whatever the partner and contract version (spec/contracts.md). The
gateway builds signals in gateway/outputs.py, always of the newest version
(``SIGNAL_VERSION``); these models are their published schemas (1.0 stays as
published), and the tests validate every built signal against the newest.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from contracts.fields import IsoDate

SIGNAL_TYPE = "nl.belastingdienst.gkt.signaal"  # the contract: its schema's type, in dataschema
SIGNAL_EVENT_TYPE = "nl.belastingdienst.gkt.signaal.schijnzelfstandigheid"  # the CloudEvent ``type`` (wire.md)
SIGNAL_VERSION = "1.2"
SIGNAL_DATASCHEMA = f"urn:gkt:contract:{SIGNAL_TYPE}:{SIGNAL_VERSION}"  # of every signal the gateway writes


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


# Version 1.0 as published: its docstring and title are part of its snapshot. The gateway writes ``Signal``.
class SignalV10(_Signal):
    """``data`` of a signal CloudEvent."""

    model_config = ConfigDict(title="Signal")

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


# Signal 1.1: 1.0 plus optional fields, so a 1.0 consumer keeps working (spec/contracts.md).


class HandhavingV11(Handhaving):
    htNiveau: Literal["volledigheid", "juistheid", "fiscaliteit"] | None = None
    vervolg: Literal["detectie", "kwaliteitsgesprek", "geen_verder_onderzoek"] | None = None
    correctieGrond: Literal["regulier", "ingroeimodel", "aanwijzing", "kwaadwillendheid_gemeld"] | None = None
    boeteMogelijkVanaf: IsoDate | None = None


class Beoordeling(_Signal):
    """For a report released from quarantine: when, why it had been held, and where the release is audited."""

    vrijgegevenOp: StrictStr
    redenen: list[StrictStr]
    audit: AuditRef


# Version 1.1 as published: its docstring and title are part of its snapshot.
class SignalV11(SignalV10):
    """``data`` of a signal CloudEvent, version 1.1: what the gateway writes."""

    model_config = ConfigDict(title="Signal")

    handhaving: HandhavingV11
    beoordeling: Beoordeling | None = None


# Signal 1.2 (spec/selection.md): 1.1 plus optional fields; what a detection team needs to select by hand.
# A report without a period of work (KVK) has periode null, and what depends on it is null (unknown).


class HandhavingV12(HandhavingV11):
    periodeCorrigeerbaar: StrictBool | None  # type: ignore[assignment]
    boeteMogelijk: StrictBool | None  # type: ignore[assignment]


class IndicatorOnderbouwing(_Signal):
    code: StrictStr
    bron: Literal["waarneming", "verklaring", "document"] | None
    toelichting: Annotated[StrictStr, Field(max_length=1000)] | None  # null unless the agreement forwards it


class Onderbouwing(_Signal):
    """What the partner sent to substantiate the report; free texts only where its agreement forwards them."""

    inspectieDatum: IsoDate | None
    functies: Annotated[list[StrictStr], Field(max_length=50)]
    indicatoren: list[IndicatorOnderbouwing]
    toelichting: Annotated[StrictStr, Field(max_length=4000)] | None


class EerderSignaal(_Signal):
    signaalId: StrictStr
    partner: StrictStr
    ontvangenOp: StrictStr


class EerdereSignalen(_Signal):
    """Signals routed or released earlier about the same client, from any partner, in the five years before."""

    aantal: Annotated[StrictInt, Field(ge=0)]
    recent: Annotated[list[EerderSignaal], Field(max_length=10)]


class Signal(SignalV11):
    """``data`` of a signal CloudEvent, version 1.2: what the gateway writes."""

    periode: SignalPeriode | None  # type: ignore[assignment]
    handhaving: HandhavingV12
    onderbouwing: Onderbouwing | None = None
    eerdereSignalen: EerdereSignalen | None = None


SIGNAL_MODELS: dict[str, type[SignalV10]] = {"1.0": SignalV10, "1.1": SignalV11, "1.2": Signal}
