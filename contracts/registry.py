"""Finds report-type contracts by type and version.

Contracts are discovered from the modules of ``contracts.reports`` (and any
extra package named by a caller, e.g. a test's fixtures): each module that
defines ``CONTRACT`` adds one version. Nothing in ``gateway/`` lists them.
"""

import importlib
import pkgutil
import re
from collections.abc import Iterable, Iterator
from types import ModuleType

from contracts.base import ReportContract
from gateway.errors import ConfigError

_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
DATASCHEMA_PREFIX = "urn:gkt:contract:"


class ContractRegistry:
    """Every known contract, by ``(type, version)``."""

    def __init__(self, contracts: Iterable[ReportContract]) -> None:
        self._by_key: dict[tuple[str, str], ReportContract] = {}
        for contract in contracts:
            if not _VERSION.fullmatch(contract.version):
                raise ConfigError(f"contract {contract.type}: version {contract.version!r} is not MAJOR.MINOR")
            key = (contract.type, contract.version)
            if key in self._by_key:
                raise ConfigError(f"contract {contract.key} is defined twice")
            self._by_key[key] = contract

    @classmethod
    def discover(cls, packages: Iterable[str] = ("contracts.reports",)) -> "ContractRegistry":
        return cls(contract for name in packages for contract in _contracts_in(name))

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


def _contracts_in(package_name: str) -> Iterator[ReportContract]:
    package = importlib.import_module(package_name)
    for info in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}."):
        module: ModuleType = importlib.import_module(info.name)
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
