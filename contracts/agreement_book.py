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
from contracts.errors import DefinitionError, Problem
from contracts.registry import ContractRegistry
from contracts.types import PartnerId
from validators.identifiers import is_oin, is_test_oin

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
        """Every agreement file under ``directory``; any error stops here (the gateway's start), naming the first."""
        book, errors = cls.inspect(directory, registry)
        if errors:
            raise DefinitionError(errors[0], tuple(errors))
        return book

    @classmethod
    def inspect(cls, directory: Path, registry: ContractRegistry) -> tuple["AgreementBook", list[Problem]]:
        """The files that load, and every error of every file (``gkt agreements check`` shows them all)."""
        if not directory.is_dir():
            return cls([]), [Problem(directory, "", "agreements directory does not exist")]
        errors: list[Problem] = []
        current = _load_each(sorted(directory.glob("*/*.toml")), registry, errors)
        archived = _load_each(sorted(directory.glob("*/archive/*.toml")), registry, errors, archived=True)
        if not current and not errors:
            errors.append(Problem(directory, "", "no agreements found (expected <partner>/<version>.toml)"))
        book = cls(current, archived)
        errors.extend(book._overlaps(directory))
        return book, errors

    def _overlaps(self, directory: Path) -> list[Problem]:
        return [
            Problem(
                _file(directory, later),
                "in_force",
                f"overlaps version {earlier.version} (intervals of one partner must not overlap)",
            )
            for partner, versions in self._by_partner.items()
            for earlier, later in itertools.pairwise(versions)
            if earlier.in_force.until is None or earlier.in_force.until > later.in_force.from_
        ]

    def warnings(self, directory: Path, now: datetime) -> list[Problem]:
        """What loads but is likely a mistake: test OINs, one OIN for two partners, no key to sign with now."""
        found: list[Problem] = []
        partners_of: dict[str, set[str]] = {}
        for agreement in self:
            file = _file(directory, agreement)
            partners_of.setdefault(agreement.oin, set()).add(agreement.partner)
            if is_test_oin(agreement.oin):
                found.append(
                    Problem(file, "oin", "a test OIN: accepted only with allow_test_oins (demo, tests)", "warning")
                )
            elif not is_oin(agreement.oin, allow_test_oins=False):
                found.append(
                    Problem(file, "oin", "not an OIN by the Logius rules: no report's source can match it", "warning")
                )
            if agreement.in_force.contains(now) and not any(key.valid_at(now) for key in agreement.keys):
                found.append(Problem(file, "keys", "in force now, but no key is valid now", "warning"))
        for oin, partners in partners_of.items():
            if len(partners) > 1:
                found.extend(
                    Problem(
                        directory / partner,
                        "oin",
                        f"OIN {oin} is also the OIN of {', '.join(sorted(partners - {partner}))}: "
                        "each partner has an OIN of its own",
                        "warning",
                    )
                    for partner in sorted(partners)
                )
        return found

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


def _file(directory: Path, agreement: Agreement) -> Path:
    """Where a current version's file is: ``<partner>/<version>.toml`` (the loader holds it there)."""
    return directory / agreement.partner / f"{agreement.version}.toml"


def _load_each(
    paths: list[Path], registry: ContractRegistry, errors: list[Problem], *, archived: bool = False
) -> list[Agreement]:
    """The files of ``paths`` that load without error; the errors of the others go to ``errors``."""
    loaded: list[Agreement] = []
    for path in paths:
        try:
            agreement = load_definition(path, Agreement.from_toml)
        except DefinitionError as exc:
            errors.extend(exc.problems)
            continue
        if wrong := _placement_and_types(path, agreement, registry, archived=archived):
            errors.extend(wrong)
        else:
            loaded.append(agreement)
    return loaded


def _placement_and_types(
    path: Path, agreement: Agreement, registry: ContractRegistry, *, archived: bool
) -> list[Problem]:
    """What one file cannot say of itself: its folder and name, and whether its report types exist."""
    wrong: list[Problem] = []
    folder = path.parent.parent.name if archived else path.parent.name
    if folder != agreement.partner:
        wrong.append(Problem(path, "partner", f"{agreement.partner!r} does not match folder {folder!r}"))
    if not archived and path.stem != agreement.version:
        wrong.append(Problem(path, "version", f"{agreement.version!r} does not match file name {path.stem!r}"))
    for index, report_type in enumerate(agreement.report_types):
        known = registry.versions(report_type.type)
        if not known:
            wrong.append(Problem(path, f"report_types.{index}.type", f"unknown report type {report_type.type!r}"))
            continue
        wrong.extend(
            Problem(path, f"report_types.{index}.versions", f"{report_type.type} has no version {version!r}")
            for version in report_type.versions
            if version not in known
        )
    return wrong
