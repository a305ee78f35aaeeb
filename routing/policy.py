"""The enforcement policy of spec/policy.md, as versioned data applied to a report.

Every date rule is judged at the Dutch day of ``received_at`` so that replay
gives the same answer. Versions differ in data only (routes, dates, whether an
aanwijzing bounds the correction window); one ``enforce`` applies them all.
"""

import functools
import hashlib
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from contracts.base import ReportSubject
from routing.errors import RoutingDataError
from routing.reference import ReferenceRecord

DEFAULT_DIR = Path(__file__).parent / "policy"


class _PolicyData(BaseModel):
    """Part of a policy file: unknown keys refused; lax values, so TOML dates and times are taken as parsed."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class _InForce(_PolicyData):
    from_: AwareDatetime = Field(alias="from")
    until: AwareDatetime | None = None


HtNiveau = Literal["volledigheid", "juistheid", "fiscaliteit"]
Vervolg = Literal["detectie", "kwaliteitsgesprek", "geen_verder_onderzoek"]
CorrectieGrond = Literal["regulier", "ingroeimodel", "aanwijzing", "kwaadwillendheid_gemeld"]


class Route(_PolicyData):
    """Where a client goes (3.2.8, bijlage 1); the first route that matches the client's reference record wins."""

    segment: Literal["mkb", "go"]
    horizontal_supervision: StrictBool | None = None  # None: either
    ht_levels: list[HtNiveau] | None = None  # None: any level, also none given
    destination: StrictStr
    vervolg: Vervolg

    def matches(self, reference: ReferenceRecord) -> bool:
        if reference.segment != self.segment:
            return False
        if self.horizontal_supervision is not None and reference.horizontaalToezichtLoonheffingen != (
            self.horizontal_supervision
        ):
            return False
        return self.ht_levels is None or reference.htNiveau in self.ht_levels


class _Correction(_PolicyData):
    """The correction window of 3.1.1: the earliest of the grounds that apply, as policy.md words it."""

    lookback_years: StrictInt
    regular_from: date  # a plain window starting on or after this is simply `regulier`
    ingroeimodel_from: date
    aanwijzing_before: date
    aanwijzing_bounds_window: StrictBool  # version 2: never before the aanwijzing's own date

    def window(self, received_on: date, kwaadwillendheid: bool, aanwijzing: date | None) -> tuple[date, CorrectieGrond]:
        base = date(received_on.year - self.lookback_years, 1, 1)
        if base >= self.regular_from:
            return base, "regulier"
        grounds: list[tuple[date, CorrectieGrond]] = [(self.ingroeimodel_from, "ingroeimodel")]
        if aanwijzing is not None and aanwijzing < self.aanwijzing_before:
            grounds.append((max(base, aanwijzing) if self.aanwijzing_bounds_window else base, "aanwijzing"))
        if kwaadwillendheid:
            grounds.append((base, "kwaadwillendheid_gemeld"))
        # min() keeps the first of equal dates: aanwijzing, listed before kwaadwillendheid_gemeld, wins a tie.
        return min(grounds, key=lambda ground: ground[0])


class _Fines(_PolicyData):
    possible_from: date


class _ModelAgreements(_PolicyData):
    honoured_until_at_most: date


@dataclass(frozen=True, slots=True)
class Enforcement:
    """The ``handhaving`` part of a signal (1.1), and the queue it goes to."""

    destination: str
    segment: str
    horizontaal_toezicht: bool
    ht_niveau: str | None
    vervolg: str
    correctie_mogelijk_vanaf: date
    correctie_grond: str
    periode_corrigeerbaar: bool | None  # None: the report names no period of work (KVK)
    boete_mogelijk_vanaf: date
    boete_mogelijk: bool | None
    modelovereenkomst_tot: date | None
    beleid: str

    def as_signal(self) -> dict[str, object]:
        return {
            "segment": self.segment,
            "horizontaalToezicht": self.horizontaal_toezicht,
            "htNiveau": self.ht_niveau,
            "vervolg": self.vervolg,
            "correctieMogelijkVanaf": self.correctie_mogelijk_vanaf.isoformat(),
            "correctieGrond": self.correctie_grond,
            "periodeCorrigeerbaar": self.periode_corrigeerbaar,
            "boeteMogelijkVanaf": self.boete_mogelijk_vanaf.isoformat(),
            "boeteMogelijk": self.boete_mogelijk,
            "modelovereenkomstTot": (self.modelovereenkomst_tot.isoformat() if self.modelovereenkomst_tot else None),
            "beleid": self.beleid,
        }


class Policy(_PolicyData):
    """One version of the policy: routes and dates as data; ``enforce`` applies them the same way for every version."""

    name: StrictStr
    version: StrictInt
    in_force: _InForce
    routes: list[Route] = Field(min_length=1)
    correction: _Correction
    fines: _Fines
    model_agreements: _ModelAgreements
    _digest: str = PrivateAttr(default="")

    @model_validator(mode="before")
    @classmethod
    def _first_layout(cls, data: Any) -> Any:
        """Version 1's file keeps its layout (its digest is in the audit log): read it into today's terms."""
        if not isinstance(data, dict) or "destinations" not in data:
            return data
        data = dict(data)
        destinations, soft = data.pop("destinations"), data.pop("soft_landing", {})
        fines = data.pop("fines", {})
        data["routes"] = [
            {"segment": "go", "destination": destinations.get("go"), "vervolg": "detectie"},
            {"segment": "mkb", "horizontal_supervision": True, "vervolg": "kwaliteitsgesprek",
             "destination": destinations.get("mkb_horizontal_supervision")},
            {"segment": "mkb", "horizontal_supervision": False, "destination": destinations.get("mkb"),
             "vervolg": "detectie"},
        ]  # fmt: skip
        data["correction"] = {
            "lookback_years": soft.get("lookback_years"),
            "regular_from": soft.get("not_before"),
            "ingroeimodel_from": soft.get("not_before"),
            "aanwijzing_before": soft.get("plain_when_designated_before"),
            "aanwijzing_bounds_window": False,
        }
        data["fines"] = {"possible_from": fines.get("possible_when_period_ends_on_or_after")}
        return data

    @property
    def label(self) -> str:
        """``<name>:<version>``, the signal's ``handhaving.beleid``."""
        return f"{self.name}:{self.version}"

    @functools.cached_property  # read per report: a private attribute costs a BaseModel.__getattr__
    def ref(self) -> str:
        """``<name>:<version>:sha256:…``, the audit record's ``versions.policy``."""
        return f"{self.label}:{self._digest}"

    @property
    def topics(self) -> list[str]:
        return [route.destination for route in self.routes]

    def contains(self, moment: datetime) -> bool:
        until = self.in_force.until
        return self.in_force.from_ <= moment and (until is None or moment < until)

    @functools.cached_property
    def reads_ht_levels(self) -> bool:
        """Whether any route depends on the client's HT level; a version that does not (1) passes none on."""
        return any(route.ht_levels is not None for route in self.routes)

    def route_for(self, reference: ReferenceRecord) -> Route | None:
        """The client's route, or None when the reference data does not say enough (an HT level, say)."""
        return next((route for route in self.routes if route.matches(reference)), None)

    def enforce(self, subject: ReportSubject, reference: ReferenceRecord, received_on: date) -> Enforcement | None:
        """Apply every rule of spec/policy.md to one report about one client; None when no route fits.

        ``received_on`` is the Dutch day of receipt (routing/calendar.py). A
        period counts up to it at most: nothing is judged about days that have
        not happened yet.
        """
        route = self.route_for(reference)
        if route is None:
            return None
        # A period counts up to the day of receipt at most; without a period nothing is judged of it.
        effective_end = min(subject.periode_tot, received_on) if subject.periode_tot is not None else None
        vanaf, grond = self.correction.window(received_on, subject.kwaadwillendheid, reference.aanwijzingDatum)
        model_tot = reference.modelovereenkomstTot
        if model_tot is not None:
            model_tot = min(model_tot, self.model_agreements.honoured_until_at_most)
        return Enforcement(
            destination=route.destination,
            segment=reference.segment,
            horizontaal_toezicht=reference.horizontaalToezichtLoonheffingen,
            ht_niveau=reference.htNiveau if self.reads_ht_levels else None,
            vervolg=route.vervolg,
            correctie_mogelijk_vanaf=vanaf,
            correctie_grond=grond,
            periode_corrigeerbaar=None if effective_end is None else effective_end >= vanaf,
            boete_mogelijk_vanaf=self.fines.possible_from,
            boete_mogelijk=None if effective_end is None else effective_end >= self.fines.possible_from,
            modelovereenkomst_tot=model_tot,
            beleid=self.label,
        )

    @classmethod
    def from_toml(cls, content: bytes) -> Self:
        policy = cls.model_validate(tomllib.loads(content.decode("utf-8")))
        policy._digest = "sha256:" + hashlib.sha256(content).hexdigest()
        return policy


class PolicyBook:
    """Every policy version, and the one in force at a moment.

    ``archive/*.toml`` keeps the exact bytes of files changed since; replay
    finds them by digest, and they decide nothing new.
    """

    def __init__(self, policies: list[Policy], archived: list[Policy] | None = None) -> None:
        self._policies = sorted(policies, key=lambda p: p.in_force.from_)
        self._all = [*policies, *(archived or [])]

    @classmethod
    def load(cls, directory: Path = DEFAULT_DIR) -> "PolicyBook":
        policies = [_load_policy(path) for path in sorted(directory.glob("*.toml"))]
        if not policies:
            raise RoutingDataError(f"{directory}: no policy files found")
        return cls(policies, [_load_policy(path) for path in sorted(directory.glob("archive/*.toml"))])

    def destinations(self) -> list[str]:
        """Every detection topic any policy version routes to (without the deployment prefix)."""
        return sorted({topic for policy in self._policies for topic in policy.topics})

    def by_ref(self, ref: str) -> "Policy | None":
        """The exact file an audit record names (``<name>:<version>:sha256:…``), current or archived."""
        return next((p for p in self._all if p.ref == ref), None)

    def in_force(self, moment: datetime) -> Policy:
        """The newest version in force at ``moment``; the first one for earlier moments.

        Reports from before the first policy are refused by their agreement in
        practice; falling back keeps the function total.
        """
        current = [p for p in self._policies if p.contains(moment)]
        return current[-1] if current else self._policies[0]


def _load_policy(path: Path) -> Policy:
    try:
        return Policy.from_toml(path.read_bytes())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RoutingDataError(f"{path}: cannot read policy ({exc})") from exc
    except RecursionError:
        raise RoutingDataError(f"{path}: nested too deeply to be a policy file") from None
    except ValidationError as exc:
        error = exc.errors(include_input=False)[0]
        field = ".".join(str(p) for p in error["loc"])
        raise RoutingDataError(f"{path}: {field}: {error['msg']}") from exc
