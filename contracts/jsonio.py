"""JSON in and out: strict parsing, canonical bytes, digests, timestamps.

One place for these so every record the gateway writes is encoded the same way.
"""

import functools
import hashlib
import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import rfc8785


class DuplicateMemberError(ValueError):
    """A JSON object repeats a member name (spec/wire.md: EVENT_UNREADABLE)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"duplicate member name {name!r}")
        self.name = name


class LoneSurrogateError(ValueError):
    """A string holds half of a UTF-16 surrogate pair: not Unicode, so nothing could encode it (RFC 7493)."""


class TooDeepError(ValueError):
    """Nesting deeper than the parser can follow."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for name, value in pairs:
        if name in obj:
            raise DuplicateMemberError(name)
        obj[name] = value
    return obj


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259); Python's parser accepts them by default.
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    # 1e400 parses as infinity, which no JSON encoder may write back.
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("a number is out of range")
    return number


# A lone surrogate can only come from a \uD800-\uDFFF escape (the UTF-8 decoder refuses encoded ones),
# so the walk below runs only for the rare record that has such an escape at all.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def strict_loads(data: bytes) -> Any:
    """Parse UTF-8 I-JSON: no duplicate member names, no lone surrogates, no NaN or infinite numbers.

    Raises only ``ValueError`` (``UnicodeDecodeError``, ``json.JSONDecodeError``,
    ``DuplicateMemberError``, ``LoneSurrogateError``, ``TooDeepError``), whatever the bytes.

    Compact JSON as orjson writes it (what most partners' encoders write) is taken from orjson's
    parse, about four times faster: when orjson writes the value it read back as exactly ``data``,
    ``data`` can repeat no member name (a dict holds each once), holds no lone surrogate and no
    number orjson would have rounded (orjson refuses the one and writes the other differently), so
    the standard library's parse below would give the same value. Anything else takes that parse.
    """
    try:
        value = orjson.loads(data)
        if orjson.dumps(value) == data:
            return value
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        pass
    return _checked_loads(data)


def _checked_loads(data: bytes) -> Any:
    """``strict_loads`` for any bytes: the standard library's parser, with every check of I-JSON made."""
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except RecursionError:
        raise TooDeepError("nested deeper than the parser follows") from None
    if _SURROGATE_ESCAPE.search(data) and _has_lone_surrogate(value):
        raise LoneSurrogateError("a string holds a lone surrogate")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _is_lone_surrogate_text(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _is_lone_surrogate_text(text: str) -> bool:
    # Python joins a valid escaped pair into one code point, so any surrogate left is lone.
    return not text.isascii() and any("\ud800" <= char <= "\udfff" for char in text)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON for the records the gateway writes.

    orjson writes what ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` writes for
    everything but floats (``1e+16`` is ``1e16``; both JSON), ~10 times faster. An integer beyond
    64 bits, which a partner's event may hold and orjson refuses, takes the standard library's path.
    """
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def canonical(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON: the bytes the audit hash is taken over.

    Without numbers other than integers and with ASCII member names, JCS is exactly sorted,
    compact JSON with non-ASCII kept literal, as orjson and Python's json write it: the same
    member order (our keys are ASCII), the same escapes (``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, other
    control characters as lower-case ``\\u00xx``). That is ~100 times faster than
    rfc8785's pure-Python encoder, which still handles anything with a float
    (ECMAScript number formatting). tests/unit/test_jsonio.py checks both agree.
    """
    if _needs_library(value):
        return bytes(rfc8785.dumps(value))
    return canonical_unchecked(value)


def canonical_unchecked(value: Any) -> bytes:
    """``canonical`` for a value its caller knows needs no library: ASCII member names, no floats,
    integers in I-JSON's range (the audit body: gateway/audit/record.py). Skips the walk that checks."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # nested deeper than orjson's 255 levels
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


SAFE_INTEGER = 2**53 - 1  # I-JSON: larger integers are not valid JCS input; rfc8785 refuses them


def _needs_library(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return not -SAFE_INTEGER <= value <= SAFE_INTEGER
    if isinstance(value, dict):
        # JCS orders member names by UTF-16 code units, Python by code points: the
        # same for ASCII names (all of the audit record's), not beyond the BMP.
        return any(not name.isascii() for name in value) or any(_needs_library(v) for v in value.values())
    if isinstance(value, list):
        return any(_needs_library(v) for v in value)
    return False


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>``, the digest notation of the spec."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@functools.lru_cache(maxsize=256)  # one decision writes its receipt time and receipt moment several times
def utc_iso(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and ``Z``, as in the spec's examples."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_millis(moment: datetime) -> int:
    """An aware datetime as whole ms since the epoch, exactly (no float in between to round 0.123 s to 122 ms)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_millis(millis: int) -> datetime:
    """A Kafka timestamp (ms since the epoch) as an aware UTC datetime."""
    return _EPOCH + timedelta(milliseconds=millis)
