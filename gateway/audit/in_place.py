"""The fields ``gkt audit verify`` checks, read in place from the bytes the gateway wrote, not parsed.

Why: parsing a whole record (orjson, about forty Python objects for a routed
report's record) was half of what verify spent a record, for eight fields.
The gateway writes every record in one layout (``gateway.audit.record.Sealed``):
its hashed body as RFC 8785 canonical JSON, members sorted, with ``hash``
inserted before ``,"inbound":`` and ``sig`` before ``,"versions":``. So the
fields sit where that layout puts them: ``chain`` first, ``inbound.offset``
right after ``hash``, ``prev`` right after ``outcome``, ``seq`` right before
``sig``.

Why this is as strict as a parse. A line is read here only when it has that
layout exactly and the SHA-256 of its bytes without the two members is the
``hash`` it carries; anything else (another layout, an escape, a number a
canonical encoder would not write, a hash that does not match) is left to the
strict parse. A line read here that the gateway did not write hashes to what
its forger chose, and so never verifies: the next record's ``prev`` or the
signature of the chain names the gateway's hash, and SHA-256 does not collide.
What is not read is not parsed either: such
a forged line that is no I-JSON in another field, or repeats a member, is
taken as a record and refused by the chain, not named unreadable. For the
lines the gateway did write, these reads are the parse's; and the members
``hash`` and ``sig`` can only sit where the layout puts them: each body has
one ``,"inbound":`` and one ``,"versions":``, both at the top (a member
name cannot occur inside a JSON string: its quotes would be escaped). All of
it is tested in tests/unit/test_audit_in_place.py.
"""

import hashlib
import re
from typing import NamedTuple


class InPlace(NamedTuple):
    """The fields of a record read in place; its ``hash`` matched its bytes."""

    chain: str
    seq: int
    prev: str
    hash: str
    offset: int
    outcome: str
    sig: str | None
    decided_at: str | None  # only read for a signed record: the signature's key must be valid then


def read_in_place(raw: bytes, start: int = 0, end: int | None = None) -> InPlace | None:
    """The fields of the record ``raw[start:end]`` when it has the gateway's layout exactly and its hash
    matches; None otherwise. The bounds let a caller read the lines of a block without copying each one.

    The member names' lengths are written as numbers: this runs once a record, and each name is a constant
    of the layout (``{"chain":"`` is 10 bytes, ``,"hash":"sha256:`` 16, the digest 64).
    """
    find, starts = raw.find, raw.startswith
    end = len(raw) if end is None else end
    chain_end = find(b'"', start + 10, end)
    at_hash = find(b',"hash":"sha256:', chain_end, end)
    hash_end = at_hash + 80  # the digest's closing quote
    offset_end = find(b",", hash_end + 22, end)
    at_outcome = find(b',"outcome":"', offset_end, end)
    outcome_end = find(b'"', at_outcome + 12, end)
    prev_end = find(b'"', outcome_end + 10, end)
    at_sig = find(b',"sig":', prev_end, end)
    at_seq = raw.rfind(b',"seq":', prev_end, at_sig)
    if (
        min(chain_end, at_hash, offset_end, at_outcome, prev_end, at_sig, at_seq) < 0
        or not starts(b'{"chain":"', start, end)
        or not starts(b'","inbound":{"offset":', hash_end, end)
        or not starts(b'","prev":"', outcome_end, end)
    ):
        return None
    if starts(b'null,"versions":{', at_sig + 7, end):
        sig, sig_end = b"", at_sig + 11
    else:
        sig_end = find(b'"', at_sig + 8, end) + 1
        if not starts(b':"', at_sig + 6, end) or sig_end == 0 or not starts(b',"versions":{', sig_end, end):
            return None
        sig = raw[at_sig + 8 : sig_end - 1]
    seq, offset = raw[at_seq + 7 : at_sig], raw[hash_end + 22 : offset_end]
    texts = raw[start + 10 : chain_end], raw[at_outcome + 12 : outcome_end], raw[outcome_end + 10 : prev_end], sig
    if not (_natural(seq) and _natural(offset) and _PLAIN.fullmatch(b"".join(texts))):
        return None
    digest = raw[at_hash + 9 : hash_end].decode("ascii", "replace")
    if hex_without(raw, start, end, (at_hash, hash_end + 1), (at_sig, sig_end)) != digest[7:]:
        return None
    decided_at = None
    if sig:  # signed: the signature's key must have been valid when it was decided
        at_decided = find(b',"decided_at":"', chain_end, at_hash)
        decided_end = find(b'"', at_decided + 15, at_hash)
        if at_decided < 0 or decided_end < 0 or not _PLAIN.fullmatch(raw, at_decided + 15, decided_end):
            return None
        decided_at = raw[at_decided + 15 : decided_end].decode("ascii")
    chain, outcome, prev = texts[0].decode("ascii"), texts[1].decode("ascii"), texts[2].decode("ascii")
    # _make, not InPlace(...): a NamedTuple's own __new__ is a Python function, and this runs once a record.
    return InPlace._make((chain, int(seq), prev, digest, int(offset), outcome, sig.decode("ascii") or None, decided_at))


# String content that means its bytes: printable ASCII, no quote, no escape.
_PLAIN = re.compile(rb"[\x20\x21\x23-\x5b\x5d-\x7e]*")


def hex_without(raw: bytes, start: int, end: int, first: tuple[int, int], second: tuple[int, int]) -> str:
    """The SHA-256 (hex) of ``raw[start:end]`` without the byte ranges ``first`` and ``second`` (in that order,
    not overlapping): a record's bytes without its ``hash`` and ``sig`` members, hashed without a copy."""
    view = memoryview(raw)
    hashed = hashlib.sha256(view[start : first[0]])
    hashed.update(view[first[1] : second[0]])
    hashed.update(view[second[1] : end])
    return hashed.hexdigest()


def _natural(text: bytes) -> bool:
    """A non-negative integer as canonical JSON writes it: digits, no sign, no leading zero."""
    return text.isdigit() and (text[0] != 0x30 or len(text) == 1)
