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
_NEEDLES = tuple(name.encode("ascii") for name in PROHIBITED)


def screen(data: Any, raw: bytes | None = None) -> list[Reason]:
    """Every path in ``data`` whose member name is prohibited; ``raw``, the event's bytes, lets a clean
    event skip the walk."""
    if raw is not None and _surely_clean(raw):
        return []
    return [
        Reason(
            ReasonCode.PROHIBITED_ATTRIBUTE,
            pointer("data", *path),
            "a prohibited attribute is present",
        )
        for path in _prohibited_paths(data, ())
    ]


def _surely_clean(raw: bytes) -> bool:
    """True when no prohibited name can be in the bytes: then no member name is one.

    Only for pure ASCII without escapes: there every member name is spelled out as
    itself and casefolds to its lower case. Non-ASCII (``ſ`` casefolds to ``s``) or a
    ``\\u`` escape could hide a name, so those events are walked.
    """
    if not raw.isascii() or b"\\" in raw:
        return False
    lowered = raw.lower()
    return not any(needle in lowered for needle in _NEEDLES)


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
