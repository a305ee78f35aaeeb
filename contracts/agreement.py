"""Working agreements (werkafspraken), loaded from ``contracts/agreements/<partner>/<version>.toml``.

An agreement is data: onboarding a partner is a reviewed file, not code.
Loading checks everything and fails with one message naming file and field.
"""

import functools
import hashlib
import re
import tomllib
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contracts.base import OptionalFields
from contracts.fields import IndicatorCode, Oordeel
from contracts.keys import PublicKey, import_public_key, public_key_der
from contracts.types import KeyId, PartnerId

_PARTNER = r"^[a-z][a-z0-9-]{1,30}$"
_POINTER = re.compile(r"^(/([A-Za-z][A-Za-z0-9]*|\*))+$")


class StrictModel(BaseModel):
    """Definition files: unknown fields refused, no type coercion, immutable once loaded."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _pointer_pattern(value: str) -> str:
    if not _POINTER.fullmatch(value):
        raise ValueError(f"{value!r} is not a JSON pointer pattern like /opdrachtnemers/*/bsn")
    return value


class InForce(StrictModel):
    from_: AwareDatetime = Field(alias="from")
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.until is not None and self.until <= self.from_:
            raise ValueError("until must be after from")
        return self

    def contains(self, moment: datetime) -> bool:
        return self.from_ <= moment and (self.until is None or moment < self.until)


class AgreementKey(StrictModel):
    kid: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    alg: Literal["EdDSA", "ES256", "PS256"]
    public_key: StrictStr
    not_before: AwareDatetime
    not_after: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None

    @field_validator("public_key")
    @classmethod
    def _is_a_public_key(cls, value: str, info: ValidationInfo) -> str:
        alg = info.data.get("alg")
        if alg is not None:
            import_public_key(value, alg, "check")  # raises ValueError naming the alg
        return value

    def model_post_init(self, context: Any, /) -> None:
        _ = self.key  # imported once, while loading: a bad key fails the load, not a report

    # cached_property rather than a pydantic private attribute: private attributes are read through
    # BaseModel.__getattr__ (~2 µs), and these are read for every report.
    @functools.cached_property
    def key(self) -> PublicKey:
        return import_public_key(self.public_key, self.alg, self.kid)

    @functools.cached_property
    def fingerprint(self) -> bytes:
        """The key itself, however its PEM is spelled (DER SubjectPublicKeyInfo): to find one key listed twice."""
        return public_key_der(self.public_key)

    def valid_at(self, moment: datetime) -> bool:
        """A key counts from not_before until the earlier of not_after and revoked_at."""
        ends = [t for t in (self.not_after, self.revoked_at) if t is not None]
        return self.not_before <= moment and all(moment < end for end in ends)


class Evidence(StrictModel):
    oordeel: Oordeel
    min_indicatoren: Annotated[StrictInt, Field(ge=1, le=12)]
    requires_any: list[IndicatorCode] = []


class ReportTypeAgreement(StrictModel):
    type: StrictStr
    versions: Annotated[list[StrictStr], Field(min_length=1)]
    sunset: dict[str, AwareDatetime] = {}
    optional_fields: list[Annotated[StrictStr, AfterValidator(_pointer_pattern)]] = []
    # Free texts (toelichting) that may reach detection (spec/selection.md): free text can hold personal data.
    forward: list[Annotated[StrictStr, AfterValidator(_pointer_pattern)]] = []
    review: StrictBool = False
    evidence: Evidence

    @model_validator(mode="after")
    def _sunset_versions_agreed(self) -> Self:
        for version in self.sunset:
            if version not in self.versions:
                raise ValueError(f"sunset names version {version!r}, which is not in versions")
        return self

    def field_agreed(self, path: tuple[str | int, ...]) -> bool:
        """Whether an optional field at ``path`` (inside ``data``) is agreed.

        A pattern agrees the field it names and everything inside it; ``*``
        stands for any array index.
        """
        # Every index matches "*" alike: remember the answer per path with its indices blanked out
        # (bounded: only a contract's field names get here).
        key = tuple(-1 if isinstance(seg, int) else seg for seg in path)
        agreed = self._agreed.get(key)
        if agreed is None:
            agreed = self._agreed[key] = _matches(self.optional_fields, key)
        return agreed

    def forwarded(self, path: tuple[str | int, ...]) -> bool:
        """Whether the free text at ``path`` (inside ``data``) may go to detection: the agreement's ``forward``."""
        return _matches(self.forward, path)

    @functools.cached_property
    def _agreed(self) -> dict[tuple[str | int, ...], bool]:
        return {}

    @functools.cached_property
    def optional_fields_check(self) -> OptionalFields:
        """The agreement stage's walk over a report, planned once for these terms."""
        return OptionalFields(self.field_agreed)


def _matches(patterns: list[str], path: tuple[str | int, ...]) -> bool:
    """Whether a pattern names ``path`` or an object around it; ``*`` stands for any array index."""
    for pattern in patterns:
        parts = pattern.split("/")[1:]
        if len(parts) <= len(path) and all(
            (p == "*" and isinstance(seg, int)) or p == str(seg) for p, seg in zip(parts, path, strict=False)
        ):
            return True
    return False


class Agreement(StrictModel):
    partner: Annotated[StrictStr, Field(pattern=_PARTNER)]
    name: Annotated[StrictStr, Field(min_length=1)]
    oin: Annotated[StrictStr, Field(pattern=r"^[0-9]{20}$")]
    version: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    legal_basis: Annotated[StrictStr, Field(min_length=1)]
    purpose: Annotated[StrictStr, Field(min_length=1)]
    in_force: InForce
    max_event_age_days: Annotated[StrictInt, Field(ge=1, le=3650)]
    keys: Annotated[list[AgreementKey], Field(min_length=1)]
    report_types: Annotated[list[ReportTypeAgreement], Field(min_length=1)]
    _digest: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _unique(self) -> Self:
        kids = [k.kid for k in self.keys]
        if len(set(kids)) != len(kids):
            raise ValueError("two keys share one kid")
        types = [r.type for r in self.report_types]
        if len(set(types)) != len(types):
            raise ValueError("a report type is listed twice")
        return self

    @property
    def partner_id(self) -> PartnerId:
        return PartnerId(self.partner)

    @functools.cached_property
    def ref(self) -> str:
        """``<partner>:<version>:sha256:…``, as the audit record's ``versions.agreement``."""
        return f"{self.partner}:{self.version}:{self._digest}"

    def key(self, kid: KeyId) -> AgreementKey | None:
        return next((k for k in self.keys if k.kid == kid), None)

    def report_type(self, report_type: str) -> ReportTypeAgreement | None:
        return next((r for r in self.report_types if r.type == report_type), None)

    @classmethod
    def from_toml(cls, content: bytes) -> "Agreement":
        """Parse and validate; raises tomllib/pydantic errors for the loader to word."""
        data: dict[str, Any] = tomllib.loads(content.decode("utf-8"))
        agreement = cls.model_validate(data)
        agreement._digest = "sha256:" + hashlib.sha256(content).hexdigest()
        return agreement
