"""What every report-type contract is: a model, a version, and a mapping to the signal.

A contract module under ``contracts/reports/`` defines one ``CONTRACT``; the
registry finds it. Validation returns reasons with JSON pointers into the
event (``/data/...``), never the offending values.
"""

import builtins
import functools
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from contracts.fields import IDENTIFIER_ERROR
from contracts.masking import pointer, register_names


class ContractModel(BaseModel):
    """Base of every report model: unknown fields are refused everywhere."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # Field names are the contracts' own words: paths may show them (contracts/masking.py).
        super().__pydantic_init_subclass__(**kwargs)
        register_names(cls.model_fields)

    def subject(self, received_on: date) -> "ReportSubject":
        """Map a whole report to what the signal needs; top-level report models override it."""
        raise NotImplementedError(f"{type(self).__name__} is not a top-level report")


@dataclass(frozen=True, slots=True)
class Party:
    """A business in the signal: client or intermediary."""

    kvk_nummer: str
    naam: str
    rol: str | None = None


def client_only(kvk_nummer: str, naam: str) -> dict[str, str | None]:
    """The signal's ``opdrachtgever`` when a report names just the KVK-nummer and name."""
    return {
        "kvkNummer": kvk_nummer,
        "naam": naam,
        "rsin": None,
        "loonheffingennummer": None,
        "vestigingsnummer": None,
        "btwId": None,
    }


@dataclass(frozen=True, slots=True)
class ReportSubject:
    """The part of a report that every contract version maps to the signal."""

    referentie: str
    opdrachtgever: dict[str, str | None]
    keten: list[Party]
    aantal_opdrachtnemers: int
    bsns: list[str]
    kvk_nummers: list[str]
    periode_van: date
    periode_tot: date
    indicatoren: list[str]
    oordeel: str
    kwaadwillendheid: bool


@dataclass(frozen=True, slots=True)
class ReportContract:
    """One report type at one ``MAJOR.MINOR`` version."""

    type: str
    version: str
    model: builtins.type[ContractModel]  # the field "type" shadows the builtin here
    summary: str = ""

    KEY_SEPARATOR: ClassVar[str] = ":"

    @property
    def key(self) -> str:
        """``<type>:<version>``, as the audit record's ``versions.contract`` names it."""
        return f"{self.type}{self.KEY_SEPARATOR}{self.version}"

    def validate(self, data: Any, received_on: date) -> tuple[ContractModel | None, list["Violation"]]:
        """Validate ``data``; all violations are returned, not just the first."""
        try:
            report = self.model.model_validate(data, context={"received_on": received_on})
        except ValidationError as exc:
            return None, [Violation.of(error) for error in exc.errors(include_input=False)]
        return report, []


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a report breaks its contract: where (a masked JSON pointer into the event) and what.

    ``identifier`` tells a malformed Dutch identifier (BSN, KVK-nummer, …)
    from any other violation; the gateway's contract stage gives each its
    reason code. ``detail`` never quotes the value.
    """

    path: str
    detail: str
    identifier: bool = False

    @classmethod
    def of(cls, error: ErrorDetails) -> "Violation":
        return cls(pointer("data", *error["loc"]), error["msg"], identifier=error["type"] == IDENTIFIER_ERROR)


Path = tuple[str | int, ...]


def _may_hold_models(annotation: Any) -> bool:
    """Whether a field of this type can hold a model, directly or in a list, a union, an ``Annotated``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _may_hold_models(typing.get_args(annotation)[0])
    if origin is typing.Literal or annotation is None or annotation is type(None):
        return False
    if origin is None:
        # A plain class; anything else unknown (Any, a type variable) is looked at when it is there.
        return issubclass(annotation, BaseModel) if isinstance(annotation, type) else True
    return any(_may_hold_models(arg) for arg in typing.get_args(annotation) if arg is not Ellipsis)


@functools.cache
def fields_of(model: type[BaseModel]) -> tuple[tuple[str, bool, bool], ...]:
    """``(name, optional, may hold models)`` of a model's fields, in declaration order: worked out once per class.

    The walk below looks into a value only where the type says a model can be: a report's
    scalars (most of its fields) cost one set lookup each.
    """
    return tuple(
        (name, not info.is_required(), _may_hold_models(info.annotation)) for name, info in model.model_fields.items()
    )


def refused_optional(model: BaseModel, agreed: Callable[[Path], bool], path: Path = ()) -> list[Path]:
    """Paths of the optional fields the sender sent that ``agreed`` refuses, in document order.

    Used by the agreement stage: an optional field that was sent must be agreed. Descends
    into objects and arrays of objects, but not into a refused field: one reason for a
    refused object, not one per member.
    """
    refused: list[Path] = []
    sent = model.model_fields_set
    for name, optional, nested in fields_of(type(model)):
        if name not in sent:
            continue
        if optional and not agreed((*path, name)):
            refused.append((*path, name))
            continue
        if not nested:
            continue
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            refused += refused_optional(value, agreed, (*path, name))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    refused += refused_optional(item, agreed, (*path, name, index))
    return refused
