"""The enforcement policy of spec/policy.md, as versioned data applied to a report.

Every date rule is judged at ``received_at`` so that replay gives the same answer.
"""

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    StrictStr,
    ValidationError,
)

from contracts.base import ReportSubject
from gateway.errors import ConfigError
from routing.reference import ReferenceRecord

DEFAULT_DIR = Path(__file__).parent / "policy"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class _InForce(_Strict):
    from_: AwareDatetime = Field(alias="from")


class _Destinations(_Strict):
    go: StrictStr
    mkb: StrictStr
    mkb_horizontal_supervision: StrictStr


class _SoftLanding(_Strict):
    lookback_years: StrictInt
    not_before: date
    plain_when_designated_before: date


class _Fines(_Strict):
    possible_when_period_ends_on_or_after: date


class _ModelAgreements(_Strict):
    honoured_until_at_most: date


@dataclass(frozen=True, slots=True)
class Enforcement:
    """The ``handhaving`` part of a signal, and the queue it goes to."""

    destination: str
    segment: str
    horizontaal_toezicht: bool
    correctie_mogelijk_vanaf: date
    periode_corrigeerbaar: bool
    boete_mogelijk: bool
    modelovereenkomst_tot: date | None
    beleid: str

    def as_signal(self) -> dict[str, object]:
        return {
            "segment": self.segment,
            "horizontaalToezicht": self.horizontaal_toezicht,
            "correctieMogelijkVanaf": self.correctie_mogelijk_vanaf.isoformat(),
            "periodeCorrigeerbaar": self.periode_corrigeerbaar,
            "boeteMogelijk": self.boete_mogelijk,
            "modelovereenkomstTot": (self.modelovereenkomst_tot.isoformat() if self.modelovereenkomst_tot else None),
            "beleid": self.beleid,
        }


class Policy(_Strict):
    name: StrictStr
    version: StrictInt
    in_force: _InForce
    destinations: _Destinations
    soft_landing: _SoftLanding
    fines: _Fines
    model_agreements: _ModelAgreements
    _digest: str = PrivateAttr(default="")

    @property
    def label(self) -> str:
        """``<name>:<version>``, the signal's ``handhaving.beleid``."""
        return f"{self.name}:{self.version}"

    @property
    def ref(self) -> str:
        """``<name>:<version>:sha256:…``, the audit record's ``versions.policy``."""
        return f"{self.label}:{self._digest}"

    @property
    def topics(self) -> list[str]:
        d = self.destinations
        return [d.mkb, d.go, d.mkb_horizontal_supervision]

    def enforce(self, subject: ReportSubject, reference: ReferenceRecord, received_at: datetime) -> Enforcement:
        """Apply every rule of spec/policy.md to one report about one client."""
        received_on = received_at.date()
        soft = self.soft_landing
        plain = subject.kwaadwillendheid or (
            reference.aanwijzingDatum is not None and reference.aanwijzingDatum < soft.plain_when_designated_before
        )
        vanaf = date(received_on.year - soft.lookback_years, 1, 1)
        if not plain:
            vanaf = max(vanaf, soft.not_before)
        model_tot = reference.modelovereenkomstTot
        if model_tot is not None:
            model_tot = min(model_tot, self.model_agreements.honoured_until_at_most)
        return Enforcement(
            destination=self._destination(reference),
            segment=reference.segment,
            horizontaal_toezicht=reference.horizontaalToezichtLoonheffingen,
            correctie_mogelijk_vanaf=vanaf,
            periode_corrigeerbaar=subject.periode_tot >= vanaf,
            boete_mogelijk=subject.periode_tot >= self.fines.possible_when_period_ends_on_or_after,
            modelovereenkomst_tot=model_tot,
            beleid=self.label,
        )

    def _destination(self, reference: ReferenceRecord) -> str:
        if reference.segment == "go":
            return self.destinations.go
        if reference.horizontaalToezichtLoonheffingen:
            return self.destinations.mkb_horizontal_supervision
        return self.destinations.mkb

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
            raise ConfigError(f"{directory}: no policy files found")
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
        current = [p for p in self._policies if p.in_force.from_ <= moment]
        return current[-1] if current else self._policies[0]

    def by_label(self, label: str) -> Policy | None:
        return next((p for p in self._policies if p.label == label), None)


def _load_policy(path: Path) -> Policy:
    try:
        return Policy.from_toml(path.read_bytes())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read policy ({exc})") from exc
    except ValidationError as exc:
        error = exc.errors(include_input=False)[0]
        field = ".".join(str(p) for p in error["loc"])
        raise ConfigError(f"{path}: {field}: {error['msg']}") from exc
