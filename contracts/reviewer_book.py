"""The GKT review team as versioned data: ``contracts/reviewers/<version>.toml`` (spec/review.md).

Like working agreements: one version in force at a time (half-open
``in_force``, no overlaps), old versions kept for verify and replay, and a
wrong file stops the gateway at start with one message naming file and field.
A reviewer's key follows the same rules as a partner's key (``not_before``,
``not_after``, ``revoked_at``).
"""

import hashlib
import itertools
import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, PrivateAttr, StrictBool, StrictStr, model_validator

from contracts.agreement import AgreementKey, InForce, StrictModel
from contracts.definition_files import load_definition
from contracts.errors import DefinitionError
from contracts.types import KeyId

DEFAULT_DIR = Path(__file__).parent / "reviewers"
REVIEWER_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class Reviewer(AgreementKey):
    """One reviewer's key: ``id`` is what the audit log records, ``name`` only ``gkt review list`` shows."""

    id: Annotated[StrictStr, Field(pattern=REVIEWER_ID)]
    name: Annotated[StrictStr, Field(min_length=1, max_length=200)]


class ReviewerVersion(StrictModel):
    """One ``<version>.toml``: who may give verdicts while it is in force.

    ``test = true`` marks reviewers whose private keys are published (the demo's and
    the tests'): their verdicts count only with ``allow_test_oins``, as test OINs do.
    """

    version: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    in_force: InForce
    test: StrictBool = False
    reviewers: Annotated[list[Reviewer], Field(min_length=1)]
    _digest: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _unique(self) -> Self:
        kids = [r.kid for r in self.reviewers]
        if len(set(kids)) != len(kids):
            raise ValueError("two reviewer keys share one kid")
        # One person with one private key must not count as two reviewers (four eyes, spec/review.md).
        holder: dict[bytes, int] = {}
        for index, reviewer in enumerate(self.reviewers):
            first = holder.setdefault(reviewer.fingerprint, index)
            if self.reviewers[first].id != reviewer.id:
                raise ValueError(
                    f"reviewers[{first}] ({self.reviewers[first].id}, kid {self.reviewers[first].kid}) and"
                    f" reviewers[{index}] ({reviewer.id}, kid {reviewer.kid}) hold the same public key"
                )
        return self

    @property
    def ref(self) -> str:
        """``<version>:sha256:…``, as the verdict's audit record names it (``versions.reviewers``)."""
        return f"{self.version}:{self._digest}"

    def key(self, reviewer: str, kid: KeyId) -> Reviewer | None:
        """The key ``kid`` when it belongs to ``reviewer``; a kid of someone else is no key of theirs."""
        return next((r for r in self.reviewers if r.kid == kid and r.id == reviewer), None)

    def name_of(self, reviewer: str) -> str | None:
        return next((r.name for r in self.reviewers if r.id == reviewer), None)

    @classmethod
    def from_toml(cls, content: bytes) -> "ReviewerVersion":
        data: dict[str, Any] = tomllib.loads(content.decode("utf-8"))
        version = cls.model_validate(data)
        version._digest = "sha256:" + hashlib.sha256(content).hexdigest()
        return version


class ReviewerBook:
    """Every reviewers version, current and archived, and which one is in force at a moment."""

    def __init__(self, versions: list[ReviewerVersion], archived: list[ReviewerVersion] | None = None) -> None:
        self._versions = sorted(versions, key=lambda v: v.in_force.from_)
        self._all = [*self._versions, *(archived or [])]

    @classmethod
    def load(cls, directory: Path) -> "ReviewerBook":
        if not directory.is_dir():
            raise DefinitionError(f"{directory}: reviewers directory does not exist")
        versions = [_load_file(path) for path in sorted(directory.glob("*.toml"))]
        if not versions:
            raise DefinitionError(f"{directory}: no reviewers found (expected <version>.toml)")
        archived = [_load_file(path, archived=True) for path in sorted(directory.glob("archive/*.toml"))]
        book = cls(versions, archived)
        for earlier, later in itertools.pairwise(book._versions):
            if earlier.in_force.until is None or earlier.in_force.until > later.in_force.from_:
                raise DefinitionError(
                    f"{directory / (later.version + '.toml')}: in_force: overlaps version {earlier.version} "
                    "(reviewers versions must not overlap)"
                )
        return book

    def in_force(self, moment: datetime) -> ReviewerVersion | None:
        return next((v for v in self._versions if v.in_force.contains(moment)), None)

    def by_ref(self, ref: str) -> ReviewerVersion | None:
        return next((v for v in self._all if v.ref == ref), None)

    def name_of(self, reviewer: str) -> str | None:
        """The reviewer's name in the latest version that lists them: for ``gkt review list``, never for the log."""
        return next((n for v in reversed(self._versions) if (n := v.name_of(reviewer))), None)

    def __iter__(self) -> Iterator[ReviewerVersion]:
        return iter(self._versions)


def _load_file(path: Path, *, archived: bool = False) -> ReviewerVersion:
    version = load_definition(path, ReviewerVersion.from_toml)
    if not archived and path.stem != version.version:
        raise DefinitionError(f"{path}: version: {version.version!r} does not match file name {path.stem!r}")
    return version


def shared_keys(book: ReviewerBook, others: dict[str, bytes]) -> list[str]:
    """Each reviewer key that is also one of ``others`` (a label for each: a partner's key, the gateway's)."""
    clashes = []
    for version in book:
        for reviewer in version.reviewers:
            for label, fingerprint in others.items():
                if reviewer.fingerprint == fingerprint:
                    clashes.append(f"reviewers {version.version}: {reviewer.id} (kid {reviewer.kid}) is {label}")
    return clashes
