"""Canonical JSON: the fast path is RFC 8785 exactly, checked against the rfc8785 library."""

import json
from typing import Any

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from contracts.jsonio import canonical, dumps

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_the_fast_path_equals_rfc8785(value: Any) -> None:
    assert canonical(value) == rfc8785.dumps(value)


def test_control_characters_and_non_ascii() -> None:
    value = {"b": '\u0000\u001f\u007f\u2028"\\\n\t é', "a": [1, None, True]}
    assert canonical(value) == rfc8785.dumps(value)


def test_member_names_beyond_the_bmp_sort_by_utf16() -> None:
    value = {"\ue000": None, "\U00010000": None}  # UTF-16: D800 DC00 sorts before E000
    assert canonical(value) == rfc8785.dumps(value)
    assert canonical(value).index(b"\xf0") < canonical(value).index(b"\xee")


def test_floats_take_the_rfc8785_path() -> None:
    value = {"x": 1.0, "y": [1e21, 0.1]}
    assert canonical(value) == rfc8785.dumps(value)
    assert canonical(value) != json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def test_integers_beyond_the_safe_domain_are_refused_as_rfc8785_does() -> None:
    import pytest

    with pytest.raises(rfc8785.IntegerDomainError):
        canonical({"offset": 2**53})


big_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@given(big_json_values)
def test_dumps_writes_what_the_standard_library_writes(value: Any) -> None:
    """Integers of any size included: those beyond 64 bits take the standard library's path."""
    assert dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def test_nesting_deeper_than_orjson_follows_is_still_written() -> None:
    value: Any = []
    for _ in range(300):  # orjson stops at 255 levels; Python at ~1,000 frames
        value = [value, {"a": 1}]
    assert dumps(value) == json.dumps(value, separators=(",", ":")).encode()
    assert canonical({"deep": value}) == rfc8785.dumps({"deep": value})
