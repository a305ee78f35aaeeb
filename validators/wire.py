"""Checks for wire-level texts the CloudEvent carries: event ids, RFC 3339 times and W3C Trace Context.

Each takes the string exactly as sent and either accepts it whole or refuses
it; nothing is normalised, and the refusal never quotes the input.
"""

import re
from datetime import datetime, timedelta

# RFC 3339 section 5.6: "T" and "Z" may be lower case; seconds may be 60 (a leap second).
_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_LEAP_SECOND = "60"

# spec/wire.md: a partner's event id, unique for it forever.
_EVENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def is_event_id(text: str) -> bool:
    """A CloudEvent ``id`` as the gateway takes it: 1-128 of ``A-Z a-z 0-9 . _ : -``."""
    return _EVENT_ID.fullmatch(text) is not None


def parse_rfc3339(text: str) -> datetime | None:
    """An aware datetime for an RFC 3339 date-time with an offset, else None.

    A leap second (``23:59:60Z``) is the moment after ``23:59:59``: Python's
    datetime has no 60th second, and POSIX time counts it the same way.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    day, hour, minute, second, fraction, offset = match.groups()
    leap = second == _LEAP_SECOND
    zone = "+00:00" if offset in ("Z", "z") else offset
    # fromisoformat takes at most 6 fraction digits; RFC 3339 allows any number.
    micro = (fraction or "")[:7]
    try:
        moment = datetime.fromisoformat(f"{day}T{hour}:{minute}:{'59' if leap else second}{micro}{zone}")
    except ValueError:
        return None
    if leap:
        moment += timedelta(seconds=1)
    return moment


# W3C Trace Context level 1: version 00 is exactly this; a later version may append fields.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[!-~]*)?")
_TRACESTATE_KEY = re.compile(r"[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13}")
_TRACESTATE_VALUE = re.compile(r"[ -+\--<>-~]{0,255}[!-+\--<>-~]")
MAX_TRACESTATE_MEMBERS = 32
MAX_TRACESTATE_LENGTH = 512


def is_traceparent(text: str) -> bool:
    """A W3C ``traceparent`` header value: version, trace id, parent id, flags."""
    match = _TRACEPARENT.fullmatch(text)
    if match is None:
        return False
    version, trace_id, parent_id, _, extra = match.groups()
    if version == "ff" or (version == "00" and extra is not None):
        return False
    return trace_id != "0" * 32 and parent_id != "0" * 16


def is_tracestate(text: str) -> bool:
    """A W3C ``tracestate`` header value: at most 32 ``key=value`` members, at most 512 characters."""
    if len(text) > MAX_TRACESTATE_LENGTH:
        return False
    members = [member.strip(" \t") for member in text.split(",")]
    present = [member for member in members if member]
    if len(present) > MAX_TRACESTATE_MEMBERS:
        return False
    keys = set()
    for member in present:
        key, equals, value = member.partition("=")
        if not equals or not _TRACESTATE_KEY.fullmatch(key) or not _TRACESTATE_VALUE.fullmatch(value):
            return False
        if key in keys:
            return False
        keys.add(key)
    return True
