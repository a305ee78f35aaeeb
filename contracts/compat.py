"""Is a new JSON Schema backward compatible with an old one? (every old-valid event stays valid)

A minor version may only add optional fields. This compares two published
schemas (pydantic's output: objects with ``properties``/``required``,
``$defs`` and ``$ref``, ``anyOf`` for optional values) and lists every change
that could make an event valid under the old schema invalid under the new one:
a removed field, a new or newly required field, a narrowed type, enum, bound,
pattern or format.
"""

from typing import Any

Schema = dict[str, Any]

_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every narrowing from ``old`` to ``new``, each as ``<field path>: <what>``."""
    return _compare(old, new, old, new, "")


def _resolve(node: Schema, root: Schema) -> Schema:
    seen = 0
    while "$ref" in node and seen < 32:
        ref = str(node["$ref"])
        if not ref.startswith("#/"):
            return node
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    return node


def _alternatives(node: Schema) -> list[Schema]:
    return list(node["anyOf"]) if "anyOf" in node else list(node["oneOf"]) if "oneOf" in node else [node]


def _types(node: Schema) -> set[str]:
    value = node.get("type")
    if value is None:
        return set()
    return set(value) if isinstance(value, list) else {str(value)}


def _compare(old: Schema, new: Schema, old_root: Schema, new_root: Schema, path: str) -> list[str]:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    old_alts, new_alts = _alternatives(old), _alternatives(new)
    if len(old_alts) > 1 or len(new_alts) > 1:
        problems = []
        for alt in old_alts:
            alt_resolved = _resolve(alt, old_root)
            fitting = [n for n in new_alts if _types(_resolve(n, new_root)) >= _types(alt_resolved)]
            if not fitting:
                problems.append(f"{path or '/'}: no longer accepts {sorted(_types(alt_resolved)) or 'a value'}")
                continue
            problems += _compare(alt, fitting[0], old_root, new_root, path)
        return problems
    return _compare_one(old, new, old_root, new_root, path)


def _compare_one(old: Schema, new: Schema, old_root: Schema, new_root: Schema, path: str) -> list[str]:
    where = path or "/"
    problems = []
    if _types(new) and not _types(old) <= _types(new):
        problems.append(f"{where}: type narrowed from {sorted(_types(old))} to {sorted(_types(new))}")
    for key in ("enum",):
        if key in new and (key not in old or not set(map(str, old[key])) <= set(map(str, new[key]))):
            problems.append(f"{where}: enum narrowed")
    if "const" in new and old.get("const") != new["const"]:
        problems.append(f"{where}: const changed")
    for key in _LOWER_BOUNDS:
        if key in new and (key not in old or new[key] > old[key]):
            problems.append(f"{where}: {key} raised to {new[key]}")
    for key in _UPPER_BOUNDS:
        if key in new and (key not in old or new[key] < old[key]):
            problems.append(f"{where}: {key} lowered to {new[key]}")
    for key in ("pattern", "format"):
        if key in new and old.get(key) != new[key]:
            problems.append(f"{where}: {key} changed")
    problems += _compare_object(old, new, old_root, new_root, path)
    if "items" in old and "items" in new:
        problems += _compare(old["items"], new["items"], old_root, new_root, f"{path}/*")
    return problems


def _compare_object(old: Schema, new: Schema, old_root: Schema, new_root: Schema, path: str) -> list[str]:
    old_props: Schema = old.get("properties", {})
    new_props: Schema = new.get("properties", {})
    problems = [f"{path}/{name}: field removed" for name in old_props if name not in new_props]
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(new_required - old_required):
        what = "field made required" if name in old_props else "new required field"
        problems.append(f"{path}/{name}: {what}")
    if old.get("additionalProperties") is not False and new.get("additionalProperties") is False and old_props:
        problems.append(f"{path or '/'}: unknown fields no longer accepted")
    for name in old_props:
        if name in new_props:
            problems += _compare(old_props[name], new_props[name], old_root, new_root, f"{path}/{name}")
    return problems
