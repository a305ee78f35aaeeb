"""Field types shared by every contract: identifiers, dates, indicators, texts.

Identifier fields raise the pydantic error type ``identifier_invalid``, which
the contract stage maps to ``IDENTIFIER_INVALID``; every other failure is a
``CONTRACT_VIOLATION``. Error messages never quote the input (it may be a BSN).
"""

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StrictStr, StringConstraints, ValidationInfo
from pydantic_core import PydanticCustomError

from validators import (
    is_bsn,
    is_btw_id,
    is_kvk_nummer,
    is_loonheffingennummer,
    is_rsin,
    is_vestigingsnummer,
)

IDENTIFIER_ERROR = "identifier_invalid"


def _identifier(
    check: Callable[[str], bool], label: str, pattern: str
) -> Any:  # an Annotated type; Any keeps mypy from unpacking it
    def validate(value: str) -> str:
        if not check(value):
            raise PydanticCustomError(IDENTIFIER_ERROR, f"not a valid {label}")
        return value

    return Annotated[
        StrictStr,
        AfterValidator(validate),
        Field(json_schema_extra={"pattern": pattern, "description": label}),
    ]


Bsn = _identifier(is_bsn, "BSN (9 digits, 11-proof)", r"^[0-9]{9}$")
Rsin = _identifier(is_rsin, "RSIN (9 digits, 11-proof)", r"^[0-9]{9}$")
KvkNummer = _identifier(is_kvk_nummer, "KVK-nummer (8 digits)", r"^[0-9]{8}$")
Vestigingsnummer = _identifier(is_vestigingsnummer, "vestigingsnummer (12 digits)", r"^[0-9]{12}$")
Loonheffingennummer = _identifier(
    is_loonheffingennummer, "loonheffingennummer (9 digits, L, 2 digits)", r"^[0-9]{9}L[0-9]{2}$"
)
BtwId = _identifier(is_btw_id, "btw-identificatienummer", r"^NL[0-9]{9}B[0-9]{2}$")

_ISO_DATE_LENGTH = 10


def _iso_date(value: Any) -> date:
    # Strict: only "YYYY-MM-DD" strings. Pydantic's lax mode would take numbers as
    # Unix times and other date shapes, which no partner contract allows.
    if not isinstance(value, str) or len(value) != _ISO_DATE_LENGTH:
        raise PydanticCustomError("date_format", "must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_format", "must be a date as YYYY-MM-DD") from None


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _not_after_receipt(value: date, info: ValidationInfo) -> date:
    received_on = (info.context or {}).get("received_on")
    if received_on is not None and value > received_on:
        raise PydanticCustomError("date_in_future", "must not be after the day of receipt")
    return value


ReportDate = Annotated[IsoDate, AfterValidator(_not_after_receipt)]
"""A date the report states as past: not after the day of ``received_at`` (validation context)."""


def text(min_length: int, max_length: int) -> Any:
    """A strict string of bounded length."""
    return Annotated[StrictStr, StringConstraints(min_length=min_length, max_length=max_length)]


class Indicator(StrEnum):
    """The shared indicator list (HR 24 March 2023, Deliveroo)."""

    GEZAG = "GEZAG"
    INBEDDING = "INBEDDING"
    PERSOONLIJKE_ARBEID = "PERSOONLIJKE_ARBEID"
    LOON = "LOON"
    WERKTIJDEN_BEPAALD = "WERKTIJDEN_BEPAALD"
    TARIEF_EENZIJDIG = "TARIEF_EENZIJDIG"
    GEEN_ONDERNEMERSRISICO = "GEEN_ONDERNEMERSRISICO"
    BEDRIJFSMIDDELEN_OPDRACHTGEVER = "BEDRIJFSMIDDELEN_OPDRACHTGEVER"
    GEEN_ONDERNEMERSGEDRAG = "GEEN_ONDERNEMERSGEDRAG"
    EEN_OPDRACHTGEVER = "EEN_OPDRACHTGEVER"
    EERDER_IN_DIENST = "EERDER_IN_DIENST"
    LANGDURIG = "LANGDURIG"


# Models are strict, but an enum must be taken from its JSON string value;
# lax enum validation still accepts only the listed values.
IndicatorCode = Annotated[Indicator, Strict(False)]

Oordeel = Literal["zwaar_vermoeden", "vermoeden"]


T = TypeVar("T")


def distinct_codes(items: list[T], code: Callable[[T], str]) -> list[T]:
    """Refuse a list that names one indicator code twice."""
    codes = [code(item) for item in items]
    if len(set(codes)) != len(codes):
        raise PydanticCustomError("indicator_repeated", "indicator codes must be distinct")
    return items
