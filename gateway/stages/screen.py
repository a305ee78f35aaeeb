"""Stage 4, screen: selection on prohibited attributes is not allowed.

A member name from the list anywhere in ``data`` (case-insensitive) rejects
the event, and nothing of its content is copied anywhere.
"""

from collections.abc import Iterator
from typing import Any

from contracts.masking import pointer, register_names
from gateway.reasons import Reason, ReasonCode

PROHIBITED_NAMES = (
    "nationaliteit",
    "nationality",
    "etniciteit",
    "ethnicity",
    "afkomst",
    "geboorteland",
    "countryOfBirth",
    "religie",
    "religion",
    "geslacht",
    "gender",
)
PROHIBITED = frozenset(name.casefold() for name in PROHIBITED_NAMES)
register_names(PROHIBITED_NAMES)  # the spec's words: a path may show them as listed


def screen(data: Any) -> list[Reason]:
    return [
        Reason(
            ReasonCode.PROHIBITED_ATTRIBUTE,
            pointer("data", *path),
            "a prohibited attribute is present",
        )
        for path in _prohibited_paths(data, ())
    ]


def _prohibited_paths(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    # Iterative depth is bounded by the read stage: json refuses nesting past the
    # interpreter's recursion limit, and such records never get here.
    if isinstance(value, dict):
        for name, item in value.items():
            if name.casefold() in PROHIBITED:
                yield (*path, name)
            yield from _prohibited_paths(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _prohibited_paths(item, (*path, index))
