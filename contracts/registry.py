"""Finds report-type contracts by type and version.

Contracts are discovered from the modules of ``contracts.reports`` and,
when the setting ``contracts_dir`` names one, from the ``.py`` files of that
directory: each module that defines ``CONTRACT`` adds one version. Nothing in
``gateway/`` lists them. Published JSON Schema snapshots live beside them in
``schemas/<type>/<version>.json``.
"""

import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

from contracts.base import ReportContract
from contracts.errors import DefinitionError

_VERSION = re.compile(r"(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})")  # bounded: dataschema is copied into the audit
DATASCHEMA_PREFIX = "urn:gkt:contract:"
BUILTIN_SCHEMAS = Path(__file__).parent / "schemas"


class ContractRegistry:
    """Every known contract, by ``(type, version)``."""

    def __init__(self, contracts: Iterable[tuple[ReportContract, Path]]) -> None:
        self._by_key: dict[tuple[str, str], ReportContract] = {}
        self._schemas: dict[tuple[str, str], Path] = {}
        for contract, schema_dir in contracts:
            if not _VERSION.fullmatch(contract.version):
                raise DefinitionError(f"contract {contract.type}: version {contract.version!r} is not MAJOR.MINOR")
            key = (contract.type, contract.version)
            if key in self._by_key:
                raise DefinitionError(f"contract {contract.key} is defined twice")
            self._by_key[key] = contract
            self._schemas[key] = schema_dir

    @classmethod
    def discover(cls, extra_dir: Path | None = None) -> "ContractRegistry":
        """The built-in contracts, and those of ``extra_dir`` (the setting ``contracts_dir``)."""
        found = [(c, BUILTIN_SCHEMAS) for c in _contracts_in_package("contracts.reports")]
        if extra_dir is not None:
            found += [(c, extra_dir / "schemas") for c in _contracts_in_directory(extra_dir)]
        return cls(found)

    def snapshot_path(self, contract: ReportContract) -> Path:
        """Where the published JSON Schema of ``contract`` is kept."""
        return self._schemas[(contract.type, contract.version)] / contract.type / f"{contract.version}.json"

    def get(self, report_type: str, version: str) -> ReportContract | None:
        return self._by_key.get((report_type, version))

    def __iter__(self) -> Iterator[ReportContract]:
        return iter(sorted(self._by_key.values(), key=lambda c: (c.type, _version_key(c.version))))

    def versions(self, report_type: str) -> list[str]:
        return [c.version for c in self if c.type == report_type]

    def types(self) -> set[str]:
        return {t for t, _ in self._by_key}


def _version_key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def _contracts_in_package(package_name: str) -> Iterator[ReportContract]:
    package = importlib.import_module(package_name)
    for info in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}."):
        yield from _contract_of(importlib.import_module(info.name))


def _contracts_in_directory(directory: Path) -> Iterator[ReportContract]:
    if not directory.is_dir():
        raise DefinitionError(f"{directory}: contracts directory does not exist")
    for path in sorted(directory.glob("*.py")):
        name = f"gkt_contracts_{directory.name}_{path.stem}".replace("-", "_").replace(".", "_")
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise DefinitionError(f"{path}: cannot load contract module")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise DefinitionError(f"{path}: contract module fails to load ({type(exc).__name__}: {exc})") from exc
        yield from _contract_of(module)


def _contract_of(module: ModuleType) -> Iterator[ReportContract]:
    contract = getattr(module, "CONTRACT", None)
    if isinstance(contract, ReportContract):
        yield contract


def parse_dataschema(dataschema: str, report_type: str) -> str | None:
    """The ``MAJOR.MINOR`` of ``urn:gkt:contract:<type>:<MAJOR>.<MINOR>``, or None."""
    prefix = f"{DATASCHEMA_PREFIX}{report_type}:"
    if not dataschema.startswith(prefix):
        return None
    version = dataschema[len(prefix) :]
    return version if _VERSION.fullmatch(version) else None
