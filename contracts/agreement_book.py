"""All working agreements, every version, and which one governs a moment.

Old versions are kept forever: replay decides again under the version an
audit record names.
"""

import itertools
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from contracts.agreement import Agreement
from contracts.definition_files import load_definition
from contracts.errors import DefinitionError
from contracts.registry import ContractRegistry
from contracts.types import PartnerId

DEFAULT_DIR = Path(__file__).parent / "agreements"


class AgreementBook:
    """Agreements by partner, sorted by the start of their ``in_force`` interval.

    ``<partner>/archive/*.toml`` holds the exact earlier bytes of versions whose
    file changed since (typically: ``until`` was set when a successor was
    agreed). They never decide anything new; replay finds them by digest.
    """

    def __init__(self, agreements: list[Agreement], archived: list[Agreement] | None = None) -> None:
        self._by_partner: dict[PartnerId, list[Agreement]] = {}
        for agreement in sorted(agreements, key=lambda a: a.in_force.from_):
            self._by_partner.setdefault(agreement.partner_id, []).append(agreement)
        self._all = [*agreements, *(archived or [])]

    @classmethod
    def load(cls, directory: Path, registry: ContractRegistry) -> "AgreementBook":
        if not directory.is_dir():
            raise DefinitionError(f"{directory}: agreements directory does not exist")
        agreements = [_load_file(path, registry) for path in sorted(directory.glob("*/*.toml"))]
        if not agreements:
            raise DefinitionError(f"{directory}: no agreements found (expected <partner>/<version>.toml)")
        archived = [_load_file(path, registry, archived=True) for path in sorted(directory.glob("*/archive/*.toml"))]
        book = cls(agreements, archived)
        book._check_no_overlap(directory)
        return book

    def _check_no_overlap(self, directory: Path) -> None:
        for partner, versions in self._by_partner.items():
            for earlier, later in itertools.pairwise(versions):
                if earlier.in_force.until is None or earlier.in_force.until > later.in_force.from_:
                    raise DefinitionError(
                        f"{directory / partner / (later.version + '.toml')}: in_force: overlaps "
                        f"version {earlier.version} (intervals of one partner must not overlap)"
                    )

    def partners(self) -> list[PartnerId]:
        return sorted(self._by_partner)

    def __iter__(self) -> Iterator[Agreement]:
        for versions in self._by_partner.values():
            yield from versions

    def in_force(self, partner: PartnerId, moment: datetime) -> Agreement | None:
        return next((a for a in self._by_partner.get(partner, []) if a.in_force.contains(moment)), None)

    def governing(self, partner: PartnerId, moment: datetime) -> Agreement | None:
        """The agreement in force at ``moment``, else the nearest one.

        Authentication needs a partner's keys even when no agreement is in force,
        so that a properly signed late report is told ``AGREEMENT_NOT_IN_FORCE``
        rather than ``KEY_UNKNOWN``: the last one that ended before ``moment``,
        or else the first one still to come.
        """
        versions = self._by_partner.get(partner, [])
        current = self.in_force(partner, moment)
        if current is not None:
            return current
        ended = [a for a in versions if a.in_force.from_ <= moment]
        return ended[-1] if ended else (versions[0] if versions else None)

    def version(self, partner: PartnerId, version: str) -> Agreement | None:
        return next((a for a in self._by_partner.get(partner, []) if a.version == version), None)

    def by_ref(self, ref: str) -> Agreement | None:
        """The exact file an audit record names (``<partner>:<version>:sha256:…``), current or archived."""
        return next((a for a in self._all if a.ref == ref), None)


def _load_file(path: Path, registry: ContractRegistry, *, archived: bool = False) -> Agreement:
    agreement = load_definition(path, Agreement.from_toml)
    folder = path.parent.parent.name if archived else path.parent.name
    if folder != agreement.partner:
        raise DefinitionError(f"{path}: partner: {agreement.partner!r} does not match folder {folder!r}")
    if not archived and path.stem != agreement.version:
        raise DefinitionError(f"{path}: version: {agreement.version!r} does not match file name {path.stem!r}")
    for index, report_type in enumerate(agreement.report_types):
        known = registry.versions(report_type.type)
        if not known:
            raise DefinitionError(f"{path}: report_types.{index}.type: unknown report type {report_type.type!r}")
        for version in report_type.versions:
            if version not in known:
                raise DefinitionError(
                    f"{path}: report_types.{index}.versions: {report_type.type} has no version {version!r}"
                )
    return agreement
