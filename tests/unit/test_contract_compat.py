"""Published contracts: a breaking change fails with contract, version and field named."""

import copy
import textwrap
from pathlib import Path
from typing import Any

import pytest

from contracts.compat import breaking_changes
from contracts.registry import ContractRegistry
from contracts.snapshots import check, published, render

BASE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["a", "n"],
    "properties": {
        "a": {"type": "string", "minLength": 1, "maxLength": 10, "pattern": "^x"},
        "n": {"type": "integer", "minimum": 0, "maximum": 9},
        "e": {"anyOf": [{"enum": ["p", "q"], "type": "string"}, {"type": "null"}], "default": None},
        "l": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "maxItems": 5},
    },
    "$defs": {"Item": {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"]}},
}


def changed(path: list[str], value: Any) -> dict[str, Any]:
    schema = copy.deepcopy(BASE)
    node = schema
    for part in path[:-1]:
        node = node[part]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return schema


def test_the_same_schema_is_compatible() -> None:
    assert breaking_changes(BASE, BASE) == []


def test_adding_an_optional_field_or_widening_is_compatible() -> None:
    wider = changed(["properties", "z"], {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None})
    wider["properties"]["a"] = {"type": "string", "minLength": 0, "maxLength": 20, "pattern": "^x"}
    wider["properties"]["e"] = {"anyOf": [{"enum": ["p", "q", "r"], "type": "string"}, {"type": "null"}]}
    assert breaking_changes(BASE, wider) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["properties", "e"], None, "/e: field removed"),
        (["required"], ["a", "n", "e"], "/e: field made required"),
        (["properties", "a", "maxLength"], 5, "/a: maxLength lowered to 5"),
        (["properties", "a", "minLength"], 2, "/a: minLength raised to 2"),
        (["properties", "a", "pattern"], "^y", "/a: pattern changed"),
        (["properties", "n", "type"], "string", "/n: type narrowed"),
        (["properties", "n", "maximum"], 8, "/n: maximum lowered to 8"),
        (["properties", "e"], {"anyOf": [{"enum": ["p"], "type": "string"}, {"type": "null"}]}, "/e: enum narrowed"),
        (["properties", "e"], {"enum": ["p", "q"], "type": "string"}, "/e: no longer accepts ['null']"),
        (["properties", "l", "maxItems"], 4, "/l: maxItems lowered to 4"),
        (["$defs", "Item", "properties", "k", "type"], "integer", "/l/*/k: type narrowed"),
    ],
)
def test_every_narrowing_is_named(path: list[str], value: Any, expected: str) -> None:
    problems = breaking_changes(BASE, changed(path, value))
    assert any(p.startswith(expected) for p in problems), problems


def test_a_new_required_field_is_named() -> None:
    schema = changed(["properties", "z"], {"type": "string"})
    schema["required"] = ["a", "n", "z"]
    assert breaking_changes(BASE, schema) == ["/z: new required field"]


MODULE = textwrap.dedent("""
    from contracts.base import ContractModel, ReportContract
    from pydantic import StrictStr

    class Report(ContractModel):
        naam: StrictStr
        {extra}

    CONTRACT = ReportContract(type="nl.test.melding", version="{version}", model=Report)
""")


def write_contract(directory: Path, version: str, extra: str = "") -> None:
    name = f"melding_{version.replace('.', '_')}.py"
    (directory / name).write_text(MODULE.format(version=version, extra=extra))


def publish_all(directory: Path) -> ContractRegistry:
    registry = ContractRegistry.discover(directory)
    for item in published(registry):
        if item.type == "nl.test.melding" and not item.snapshot.exists():
            item.snapshot.parent.mkdir(parents=True, exist_ok=True)
            item.snapshot.write_text(render(item.schema()))
    return registry


def test_a_breaking_minor_version_fails_naming_contract_version_and_field(tmp_path: Path) -> None:
    write_contract(tmp_path, "1.0")
    write_contract(tmp_path, "1.1", "dossier: StrictStr")  # a new required field in a minor version
    problems = check(publish_all(tmp_path))
    assert problems == [
        "nl.test.melding 1.1: field /dossier breaks 1.0: new required field "
        "(a minor version may only add optional fields)"
    ]


def test_a_new_major_version_may_break(tmp_path: Path) -> None:
    write_contract(tmp_path, "1.0")
    write_contract(tmp_path, "2.0", "dossier: StrictStr")
    assert check(publish_all(tmp_path)) == []


def test_changing_a_published_model_fails(tmp_path: Path) -> None:
    write_contract(tmp_path, "1.0")
    publish_all(tmp_path)
    write_contract(tmp_path, "1.0", "dossier: StrictStr | None = None")
    problems = check(ContractRegistry.discover(tmp_path))
    assert len(problems) == 1
    assert problems[0].startswith("nl.test.melding 1.0: the model no longer matches its published snapshot")


def test_a_missing_snapshot_says_how_to_publish(tmp_path: Path) -> None:
    write_contract(tmp_path, "1.0")
    problems = check(ContractRegistry.discover(tmp_path))
    assert problems == [
        f"nl.test.melding 1.0: no published schema snapshot at {tmp_path}/schemas/nl.test.melding/1.0.json "
        "(publish it with: gkt contracts schema nl.test.melding:1.0 --write)"
    ]


def test_the_repository_contracts_pass() -> None:
    assert check(ContractRegistry.discover()) == []
