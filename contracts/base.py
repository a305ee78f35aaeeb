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

    def substantiation(self) -> "Substantiation":
        """What the partner sent to substantiate the report (signal 1.2 ``onderbouwing``); none unless a top-level
        report model says. Asked only when a signal is written, not for every report decided."""
        return Substantiation()


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


# A path into ``data`` where a free text sits: the agreement's ``forward`` patterns are matched against it.
TextPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class IndicatorGround:
    """One indicator as the partner substantiated it: ``bron`` (NLA 2.0) and its free text, with the text's path."""

    code: str
    bron: str | None = None
    toelichting: str | None = None
    toelichting_path: TextPath = ()


@dataclass(frozen=True, slots=True)
class Substantiation:
    """What the partner sent to substantiate a report (signal 1.2 ``onderbouwing``, spec/selection.md).

    Free texts carry their path: they reach detection only where the agreement forwards them.
    """

    inspectie_datum: date | None = None
    functies: tuple[str, ...] = ()
    indicatoren: tuple[IndicatorGround, ...] = ()
    toelichting: str | None = None
    toelichting_path: TextPath = ("toelichting",)


MAX_FUNCTIES = 50  # spec/selection.md: the distinct functies of the workers, at most 50


def distinct_functies(functies: list[str]) -> tuple[str, ...]:
    """Each function once, in the order first named, at most ``MAX_FUNCTIES``."""
    return tuple(dict.fromkeys(functies))[:MAX_FUNCTIES]


@dataclass(frozen=True, slots=True)
class ReportSubject:
    """The part of a report that every contract version maps to the signal.

    ``periode_van``/``periode_tot`` are None when the report names no period of work (a KVK
    registration, spec/selection.md): the policy then judges nothing that depends on it.
    """

    referentie: str
    opdrachtgever: dict[str, str | None]
    keten: list[Party]
    aantal_opdrachtnemers: int
    bsns: list[str]
    kvk_nummers: list[str]
    periode_van: date | None
    periode_tot: date | None
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
        return cls(pointer("data", *error["loc"]), in_our_words(error), identifier=error["type"] == IDENTIFIER_ERROR)


# pydantic's words for what went wrong, as a partner reads a reason: what the contract wants (never the value).
_OUR_WORDS = {
    "extra_forbidden": "is not a field of this contract version (docs/contracts.md lists the fields)",
    "missing": "is required by this contract version and missing",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be an array",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD), without a time",
    "string_pattern_mismatch": "does not have the form this field requires (docs/contracts.md)",
}


def in_our_words(error: ErrorDetails) -> str:
    """A contract error as the gateway says it: what the field must be. Validators' own messages stay."""
    kind, context = error["type"], error.get("ctx") or {}
    if kind in _OUR_WORDS:
        return _OUR_WORDS[kind]
    if kind in ("string_too_short", "string_too_long"):
        bound = "at least" if kind == "string_too_short" else "at most"
        limit = context.get("min_length" if kind == "string_too_short" else "max_length")
        return f"must have {bound} {limit} characters"
    if kind in ("too_short", "too_long"):
        bound = "at least" if kind == "too_short" else "at most"
        limit = context.get("min_length" if kind == "too_short" else "max_length")
        return f"must have {bound} {limit} items"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.replace("Input should be", "must be", 1)


Path = tuple[str | int, ...]


Models = frozenset[type[BaseModel]] | None
"""The model classes a field can hold (directly, in a list, in a union); ``None`` when the type does not say."""


def _models_in(annotation: Any) -> Models:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin is typing.Literal or annotation is None or annotation is type(None):
        return frozenset()
    if origin is None:
        if not isinstance(annotation, type):
            return None  # Any, a type variable: looked at when a value is there
        return frozenset({annotation}) if issubclass(annotation, BaseModel) else frozenset()
    found: set[type[BaseModel]] = set()
    for arg in typing.get_args(annotation):
        if arg is Ellipsis:
            continue
        models = _models_in(arg)
        if models is None:
            return None
        found |= models
    return frozenset(found)


@functools.cache
def fields_of(model: type[BaseModel]) -> tuple[tuple[str, bool, Models], ...]:
    """``(name, optional, models it can hold)`` of a model's fields, in declaration order, once per class."""
    return tuple(
        (name, not info.is_required(), _models_in(info.annotation)) for name, info in model.model_fields.items()
    )


_PLAN_DEPTH = 16  # deeper than any contract nests; past it (a recursive model) the walk decides per value


class OptionalFields:
    """Which optional fields a report sent that ``agreed`` refuses (the agreement stage, FIELD_NOT_AGREED).

    An optional field that was sent must be agreed. The walk descends into objects and arrays
    of objects, but not into a refused field: one reason for a refused object, not one per
    member. Per model class and place (array indices as ``-1``, as ``agreed`` sees them) it
    works out once which fields can be refused and which can lead to one, so a report costs
    a set lookup per such field and nothing for the rest.
    """

    def __init__(self, agreed: Callable[[Path], bool]) -> None:
        self._agreed = agreed
        self._plans: dict[tuple[type[BaseModel], Path], tuple[tuple[str, bool], ...]] = {}

    def refused(self, model: BaseModel) -> list[Path]:
        """Paths of the optional fields sent and not agreed, in document order."""
        found: list[Path] = []
        self._walk(model, (), (), found)
        return found

    def _walk(self, model: BaseModel, shape: Path, path: Path, found: list[Path]) -> None:
        sent = model.model_fields_set
        for name, refused in self._plan(type(model), shape):
            if name not in sent:
                continue
            if refused:
                found.append((*path, name))
                continue
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                self._walk(value, (*shape, name), (*path, name), found)
            elif isinstance(value, list | tuple):
                for index, item in enumerate(value):
                    if isinstance(item, BaseModel):
                        self._walk(item, (*shape, name, -1), (*path, name, index), found)

    def _plan(self, model: type[BaseModel], shape: Path) -> tuple[tuple[str, bool], ...]:
        """``(name, refused)``: refused fields to name, and fields to look into; the others are left out."""
        plan = self._plans.get((model, shape))
        if plan is None:
            steps = []
            for name, optional, models in fields_of(model):
                here = (*shape, name)
                if optional and not self._agreed(here):
                    steps.append((name, True))
                elif models is None or (models and self._can_refuse_inside(models, here)):
                    steps.append((name, False))
            plan = self._plans[(model, shape)] = tuple(steps)
        return plan

    def _can_refuse_inside(self, models: frozenset[type[BaseModel]], here: Path) -> bool:
        if len(here) > _PLAN_DEPTH:
            return True
        return any(self._plan(m, here) or self._plan(m, (*here, -1)) for m in models)
