"""What the sender chose, masked: texts, unreadable bytes, and JSON pointers into an event (G7).

A reason's ``path`` points into the partner's event. Names the contracts
define (``opdrachtgever``, ``kvkNummer``) and the CloudEvents attributes are
the gateway's own words and stay readable; any other member name came from
the sender and may be personal data (a member called ``Jan de Vries`` or
``123456782L01``), so it is masked the way dead-letter bytes are: letters
become ``x``, digits ``9``, other characters ``?``, ASCII punctuation stays.
Every pointer is a valid RFC 6901 pointer and has a bounded length, whatever
the event held.
"""

from collections.abc import Iterable

MAX_SEGMENT = 40  # a masked name longer than this is cut; nobody reads a 200 KB member name
MAX_POINTER = 512

# The CloudEvents attributes of spec/wire.md, and the spec's prohibited names
# are registered by the stages that own them; contract field names by ContractModel.
# Kept case-folded: a name that differs from one of ours only in case carries nothing of the sender's.
_KNOWN: set[str] = {"data"}


def register_names(names: Iterable[str]) -> None:
    """Declare names as the gateway's own vocabulary: shown as they are in paths."""
    _KNOWN.update(name.casefold() for name in names)


def _shape(code: int) -> str:
    """The one masking rule: letters ``x``, digits ``9``, non-ASCII ``?``, ASCII punctuation and space kept."""
    if code >= 128:
        return "?"
    char = chr(code)
    return "x" if char.isalpha() else "9" if char.isdigit() else char


_BYTES_TABLE = bytes(ord(_shape(code)) for code in range(256))
# In text, control characters become "?" too: a pointer or a header must stay printable.
_TEXT_TABLE = {code: "?" if code < 32 or code == 127 else _shape(code) for code in range(128)}


def mask(value: bytes) -> bytes:
    """The shape of unreadable bytes without their content, byte for byte.

    An operator still sees where the JSON breaks, at the same byte offset (line
    breaks kept), but no BSN or name survives. The original bytes stay on the
    inbound topic, under its retention and ACLs.
    """
    return value.translate(_BYTES_TABLE)


def mask_text(text: str) -> str:
    """The shape of ``text`` without its content: letters ``x``, digits ``9``, non-ASCII ``?``."""
    if text.isascii():
        return text.translate(_TEXT_TABLE)
    return "".join("?" if not char.isascii() else char.translate(_TEXT_TABLE) for char in text)


def masked(text: str, limit: int = MAX_SEGMENT) -> str:
    """``text`` masked, and cut to ``limit`` characters (the last one then ``…``)."""
    shape = mask_text(text[: limit + 1])
    return shape if len(shape) <= limit else shape[: limit - 1] + "…"


def segment(part: str | int) -> str:
    """One unescaped path segment: an index, a known name, or a masked and bounded name."""
    if isinstance(part, int):
        return str(part)
    return part if part.casefold() in _KNOWN else masked(part)


def pointer(*parts: str | int) -> str:
    """An RFC 6901 JSON pointer from path parts, masked and at most ``MAX_POINTER`` characters."""
    escaped = [segment(p).replace("~", "~0").replace("/", "~1") for p in parts]
    text = "/" + "/".join(escaped)
    if len(text) <= MAX_POINTER:
        return text
    # Cut at a segment boundary and say so with a last segment of its own.
    kept = ""
    for item in escaped:
        if len(kept) + len(item) + 1 > MAX_POINTER - 2:
            break
        kept += "/" + item
    return kept + "/…"


def masked_or_none(text: str | None, limit: int = 128) -> str | None:
    """``masked(text)`` for a text the sender chose that may be absent (an event id before authentication)."""
    return None if text is None else masked(text, limit)
