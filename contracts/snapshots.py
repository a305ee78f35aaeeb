"""Published JSON Schemas: generated from the models, kept as snapshots, checked for breaks.

``gkt contracts check`` fails when a model no longer produces its snapshot,
when a snapshot is missing, or when a minor version breaks the one before it
(contracts/compat.py). Each problem names contract, version and field.
"""

import builtins
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contracts.compat import breaking_changes
from contracts.registry import BUILTIN_SCHEMAS, DATASCHEMA_PREFIX, ContractRegistry
from contracts.signal import SIGNAL_MODELS, SIGNAL_TYPE


@dataclass(frozen=True, slots=True)
class Published:
    """One schema the project publishes: a report-type version, or the signal."""

    type: str
    version: str
    model: builtins.type[BaseModel]  # the field "type" shadows the builtin here
    snapshot: Path
    summary: str = ""

    @property
    def key(self) -> str:
        return f"{self.type}:{self.version}"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def schema(self) -> dict[str, Any]:
        schema = self.model.model_json_schema()
        return {"$id": f"{DATASCHEMA_PREFIX}{self.type}:{self.version}", "title": self.key, **schema}

    def read_snapshot(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.snapshot.read_text()))
        except FileNotFoundError:
            return None


def render(schema: dict[str, Any]) -> str:
    """The stored form: stable key order, two-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def published(registry: ContractRegistry) -> list[Published]:
    items = [Published(c.type, c.version, c.model, registry.snapshot_path(c), c.summary) for c in registry]
    for version, model in SIGNAL_MODELS.items():
        path = BUILTIN_SCHEMAS / SIGNAL_TYPE / f"{version}.json"
        items.append(Published(SIGNAL_TYPE, version, model, path, "What detection consumers receive"))
    return items


def status(item: Published) -> str:
    snapshot = item.read_snapshot()
    if snapshot is None:
        return "unpublished"
    return "published" if snapshot == item.schema() else "modified"


def check(registry: ContractRegistry) -> list[str]:
    """Every problem, each naming contract, version and (where there is one) field."""
    problems: list[str] = []
    items = published(registry)
    for item in items:
        snapshot = item.read_snapshot()
        if snapshot is None:
            problems.append(
                f"{item.type} {item.version}: no published schema snapshot at {item.snapshot} "
                f"(publish it with: gkt contracts schema {item.key} --write)"
            )
        elif snapshot != item.schema():
            problems.append(
                f"{item.type} {item.version}: the model no longer matches its published snapshot {item.snapshot}; "
                "a published version never changes: add a new version instead"
            )
    problems += _minor_compatibility(items)
    return problems


def _minor_compatibility(items: list[Published]) -> list[str]:
    problems = []
    by_type: dict[str, list[Published]] = {}
    for item in items:
        by_type.setdefault(item.type, []).append(item)
    for versions in by_type.values():
        ordered = sorted(versions, key=lambda i: tuple(int(p) for p in i.version.split(".")))
        for before, after in itertools.pairwise(ordered):
            if before.major != after.major:
                continue
            old, new = before.read_snapshot(), after.read_snapshot()
            if old is None or new is None:
                continue
            for change in breaking_changes(old, new):
                field, _, what = change.partition(": ")
                problems.append(
                    f"{after.type} {after.version}: field {field} breaks {before.version}: {what} "
                    "(a minor version may only add optional fields)"
                )
    return problems
