"""People and teams who sign records to the gateway, as versioned data: the shared rules of
``contracts/reviewers/`` (spec/review.md) and ``contracts/teams/`` (spec/selection.md).

One version in force at a time (half-open ``in_force``, no overlaps), old
versions kept for verify and replay, and a wrong file stops the gateway at
start with one message naming file and field. A holder's key follows the same
rules as a partner's key (``not_before``, ``not_after``, ``revoked_at``). One
public key under two holder ids does not load: one person with one private
key must not count as two (four eyes), nor speak for two teams.
"""

import hashlib
import itertools
import tomllib
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar, cast

from pydantic import Field, PrivateAttr, StrictBool, StrictStr, model_validator

from contracts.agreement import AgreementKey, InForce, StrictModel
from contracts.definition_files import load_definition
from contracts.errors import DefinitionError
from contracts.types import KeyId

HOLDER_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class Holder(AgreementKey):
    """One holder's key: ``id`` is what the audit log records, ``name`` only the command line shows."""

    id: Annotated[StrictStr, Field(pattern=HOLDER_ID)]
    name: Annotated[StrictStr, Field(min_length=1, max_length=200)]


class HolderVersion(StrictModel):
    """One ``<version>.toml``: who may sign while it is in force; subclasses name the list (``LIST``).

    ``test = true`` marks holders whose private keys are published (the demo's and
    the tests'): their records count only with ``allow_test_oins``, as test OINs do.
    """

    LIST: ClassVar[str]  # the list's name in the file: reviewers, teams
    NOUN: ClassVar[str]  # one of them: reviewer, team
    version: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    in_force: InForce
    test: StrictBool = False
    _digest: str = PrivateAttr(default="")

    @property
    def holders(self) -> Sequence[Holder]:
        held: Sequence[Holder] = getattr(self, self.LIST)
        return held

    @model_validator(mode="after")
    def _unique(self) -> Self:
        holders = self.holders
        kids = [h.kid for h in holders]
        if len(set(kids)) != len(kids):
            raise ValueError(f"two {self.NOUN} keys share one kid")
        first_of: dict[bytes, int] = {}
        for index, holder in enumerate(holders):
            first = first_of.setdefault(holder.fingerprint, index)
            if holders[first].id != holder.id:
                raise ValueError(
                    f"{self.LIST}[{first}] ({holders[first].id}, kid {holders[first].kid}) and"
                    f" {self.LIST}[{index}] ({holder.id}, kid {holder.kid}) hold the same public key"
                )
        return self

    @property
    def ref(self) -> str:
        """``<version>:sha256:…``, as an audit record names it (``versions.reviewers``, ``versions.teams``)."""
        return f"{self.version}:{self._digest}"

    def key(self, holder: str, kid: KeyId) -> Holder | None:
        """The key ``kid`` when it belongs to ``holder``; a kid of someone else is no key of theirs."""
        return next((h for h in self.holders if h.kid == kid and h.id == holder), None)

    def lists_kid(self, kid: str) -> bool:
        return any(h.kid == kid for h in self.holders)

    def name_of(self, holder: str) -> str | None:
        return next((h.name for h in self.holders if h.id == holder), None)

    @classmethod
    def from_toml(cls, content: bytes) -> Self:
        data: dict[str, Any] = tomllib.loads(content.decode("utf-8"))
        version = cls.model_validate(data)
        version._digest = "sha256:" + hashlib.sha256(content).hexdigest()
        return version


V = TypeVar("V", bound=HolderVersion)


class HolderBook(Generic[V]):
    """Every version, current and archived, and which one is in force at a moment."""

    MODEL: ClassVar[type[HolderVersion]]  # the version a subclass holds: ReviewerVersion, TeamVersion

    def __init__(self, versions: list[V], archived: list[V] | None = None) -> None:
        self._versions = sorted(versions, key=lambda v: v.in_force.from_)
        self._all = [*self._versions, *(archived or [])]

    @property
    def LIST(self) -> str:  # noqa: N802  (the versions' own name for their list)
        return self.MODEL.LIST

    @classmethod
    def load(cls, directory: Path) -> Self:
        model = cast(type[V], cls.MODEL)
        what = model.LIST
        if not directory.is_dir():
            raise DefinitionError(f"{directory}: {what} directory does not exist")
        versions = [_load_file(path, model) for path in sorted(directory.glob("*.toml"))]
        if not versions:
            raise DefinitionError(f"{directory}: no {what} found (expected <version>.toml)")
        archived = [_load_file(path, model, archived=True) for path in sorted(directory.glob("archive/*.toml"))]
        book = cls(versions, archived)
        for earlier, later in itertools.pairwise(book._versions):
            if earlier.in_force.until is None or earlier.in_force.until > later.in_force.from_:
                raise DefinitionError(
                    f"{directory / (later.version + '.toml')}: in_force: overlaps version {earlier.version} "
                    f"({what} versions must not overlap)"
                )
        return book

    def in_force(self, moment: datetime) -> V | None:
        return next((v for v in self._versions if v.in_force.contains(moment)), None)

    def by_ref(self, ref: str) -> V | None:
        return next((v for v in self._all if v.ref == ref), None)

    def only(self, ref: str) -> Self | None:
        """A book of the one version ``ref`` names (current or archived), as replay decides under it; or None."""
        version = self.by_ref(ref)
        return type(self)([version]) if version is not None else None

    def name_of(self, holder: str) -> str | None:
        """The holder's name in the latest version that lists them: for the command line, never for the log."""
        return next((n for v in reversed(self._versions) if (n := v.name_of(holder))), None)

    def __iter__(self) -> Iterator[V]:
        return iter(self._versions)


def _load_file(path: Path, model: type[V], *, archived: bool = False) -> V:
    version = load_definition(path, model.from_toml)
    if not archived and path.stem != version.version:
        raise DefinitionError(f"{path}: version: {version.version!r} does not match file name {path.stem!r}")
    return version


def shared_keys(book: HolderBook[Any], others: dict[str, bytes]) -> list[str]:
    """Each holder key that is also one of ``others`` (a label for each: a partner's key, the gateway's)."""
    clashes = []
    for version in book:
        for holder in version.holders:
            for label, fingerprint in others.items():
                if holder.fingerprint == fingerprint:
                    clashes.append(f"{version.LIST} {version.version}: {holder.id} (kid {holder.kid}) is {label}")
    return clashes
