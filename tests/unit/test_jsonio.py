"""JSON in and out: canonical JSON's fast path is RFC 8785 exactly (checked against the rfc8785 library), and
strict parsing's fast path reads exactly what the checked parse reads, refusing what it refuses."""

import json
from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from contracts import jsonio
from contracts.jsonio import canonical, dumps, strict_loads

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


def _parsed(parse: Any, data: bytes) -> str:
    """What ``parse`` makes of ``data``, types included (1 is not 1.0): its repr, or the error's class."""
    try:
        return repr(parse(data))
    except ValueError as exc:
        return type(exc).__name__


any_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


def _edited(data: bytes, at: int, removed: int, inserted: bytes) -> bytes:
    at %= len(data) + 1
    return data[:at] + inserted + data[at + removed :]


_TRICKY = st.sampled_from(
    [
        b'"a":1,',
        b',"a":2',
        b"\\ud800",
        b"\\u00e9",
        b"\\/",
        b" ",
        b"1e400",
        b"-0",
        b"00",
        b"NaN",
        b"\xff",
        b"\xed\xa0\x80",
    ]
)


@given(
    any_json_values, st.integers(min_value=0), st.integers(min_value=0, max_value=3), _TRICKY | st.binary(max_size=4)
)
def test_strict_loads_reads_what_the_checked_parse_reads(value: Any, at: int, removed: int, inserted: bytes) -> None:
    """Compact JSON (the fast path's), the same edited anyhow (a repeated member, an escape, a lone surrogate,
    a huge number, bytes that are not UTF-8), and the standard library's spaced JSON: the same value or error."""
    compact = dumps(value)
    for data in (compact, _edited(compact, at, removed, inserted), json.dumps(value).encode()):
        assert _parsed(strict_loads, data) == _parsed(jsonio._checked_loads, data)


@given(st.binary(max_size=64))
def test_strict_loads_of_any_bytes_is_the_checked_parse(data: bytes) -> None:
    assert _parsed(strict_loads, data) == _parsed(jsonio._checked_loads, data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1,"a":2}',
        b'["\\ud800"]',
        b'{"n":1e400}',
        b'{"n":123456789012345678901234567890}',
        b"[" * 300 + b"]" * 300,
    ],
)
def test_what_orjson_reads_otherwise_is_decided_by_the_checked_parse(data: bytes) -> None:
    """orjson keeps the last of two members and rounds a huge integer; 255 levels are as deep as it writes."""
    assert _parsed(strict_loads, data) == _parsed(jsonio._checked_loads, data)


@given(json_values)
def test_compact_json_without_floats_takes_the_fast_path(value: Any) -> None:
    """So that the fast path cannot go unused unnoticed: the checked parse is not called for it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonio, "_checked_loads", _not_called)
        assert strict_loads(orjson.dumps(value)) == value


def _not_called(data: bytes) -> Any:
    raise AssertionError("the checked parse was called")
