"""Values in human output as people read them, never as Python writes them (``['A']``, ``{'k': …}``, ``None``)."""

from collections.abc import Mapping
from typing import Any


def plain(value: Any) -> str:
    """``A, B`` for a list, ``key: value; …`` for a mapping, ``-`` for nothing; anything else as text."""
    if value is None or value in ([], {}):
        return "-"
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {plain(item)}" for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(plain(item) for item in value)
    return str(value)
