"""Reading audit records in place (gateway/audit/in_place.py): what the gateway writes is read as a parse reads
it, text inside strings never passes for the layout, and a log changed anyhow verifies as parsing it would."""

import hashlib
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.audit.in_place import read_in_place
from gateway.audit.record import seal, sign_checkpoint
from gateway.audit.verify import ChainVerifier, VerifyReport, check_in_place, check_parsed
from gateway.pipeline import Rules
from tests.unit.test_audit_chain import KEYS, SIGNER, written

# Text that looks like the layout's own members, to be met inside strings (where its quotes are escaped).
LOOKALIKE = st.sampled_from(
    [
        ',"hash":"sha256:',
        '","inbound":{"offset":',
        ',"outcome":"',
        '","prev":"',
        ',"seq":',
        ',"sig":',
        "null,",
        ',"versions":{',
        ',"decided_at":"',
        '{"chain":"',
        "\\",
        '"',
        "\x1b",
        "é",
        "\u2028",
    ]
)
TEXT = st.one_of(st.text(max_size=30), st.lists(st.one_of(LOOKALIKE, st.text(max_size=4)), max_size=6).map("".join))
PLAIN = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\'), max_size=30)
NATURAL = st.integers(0, 2**53 - 1)


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Any audit body the gateway could seal, its strings anything (the member names are the gateway's)."""
    field = TEXT if draw(st.booleans(), label="odd text in the fields read in place") else PLAIN
    maybe = st.one_of(st.none(), TEXT)
    body: dict[str, Any] = {
        "chain": draw(field),
        "seq": draw(NATURAL),
        "prev": draw(field),
        "decided_at": draw(field),
        "inbound": {"topic": draw(TEXT), "partition": draw(NATURAL), "offset": draw(NATURAL), "timestamp": draw(maybe)}
        | draw(st.sampled_from([{}, {"timestamp_type": "LogAppendTime"}])),
        "event": {k: draw(maybe) for k in ("id", "source", "type", "dataschema", "kid")} | {"digest": draw(TEXT)},
        "outcome": draw(field),
        "reasons": draw(st.lists(st.fixed_dictionaries({"code": TEXT, "path": maybe}), max_size=3)),
        "original": draw(st.one_of(st.none(), st.fixed_dictionaries({"topic": TEXT, "offset": NATURAL}))),
        "destination": draw(st.one_of(st.none(), st.fixed_dictionaries({"topic": maybe, "signal_id": maybe}))),
        "versions": {k: draw(maybe) for k in ("gateway", "contract", "agreement", "policy", "reference")},
    }
    extra = draw(st.sampled_from(["", "selection", "review", "feedback"]))
    if extra == "selection":
        body |= {"client": draw(TEXT), "eerdere": {"aantal": draw(NATURAL), "recent": draw(st.lists(TEXT, max_size=3))}}
    elif extra == "review":
        body["review"] = {"item": draw(maybe), "verdict": draw(maybe), "reviewer": draw(maybe)}
    elif extra == "feedback":
        body["feedback"] = {k: draw(maybe) for k in ("signal_id", "status", "op", "team", "partner")}
    return body


def _plain(text: object) -> bool:
    return isinstance(text, str) and text.isascii() and text.isprintable() and "\\" not in text and '"' not in text


@settings(max_examples=400, deadline=None)
@given(body=bodies(), signed=st.booleans())
def test_whatever_the_gateway_writes_is_read_in_place_as_a_parse_reads_it(body: dict[str, Any], signed: bool) -> None:
    sealed = seal(body)  # type: ignore[arg-type]
    if signed:
        sign_checkpoint(sealed.record, SIGNER)
    raw = sealed.encoded()
    assert check_in_place(raw, KEYS) in (None, check_parsed(raw, KEYS))
    if all(_plain(body[name]) for name in ("chain", "outcome", "prev", "decided_at")):
        assert read_in_place(raw) is not None, "the gateway's own layout is read in place"
        assert check_in_place(raw, KEYS) == check_parsed(raw, KEYS)


def test_every_kind_of_record_the_processor_writes_is_read_in_place(rules: Rules) -> None:
    lines = written(rules, 30)
    assert any(b'"sig":null' not in line for line in lines), "some records are signed"
    for line in lines:
        assert read_in_place(line) is not None
        assert check_in_place(line, KEYS) == check_parsed(line, KEYS)
    block = b"\n".join(lines)
    at = len(lines[0]) + 1
    assert read_in_place(block, at, at + len(lines[1])) == read_in_place(lines[1]), "a line read where it lies"


def _rehashed(raw: bytes) -> bytes:
    """The line with its hash made to match whatever its bytes now say: what a forger without the key does."""
    at = raw.find(b',"hash":"sha256:')
    sig = re.search(rb',"sig":(null|"[^"]*")', raw)
    if at < 0 or sig is None:  # garbled before: nothing to forge
        return raw
    body = raw[:at] + raw[at + 81 : sig.start()] + raw[sig.end() :]
    return raw[:at] + b',"hash":"sha256:' + hashlib.sha256(body).hexdigest().encode() + raw[at + 80 :]


def _forged(raw: bytes, how: str) -> bytes:
    """``raw`` changed ``how``; unchanged where it has nothing left to change (a line garbled before)."""
    member = re.search(rb',"hash":"sha256:[0-9a-f]{64}"', raw)
    if member is None or b',"outcome":"' not in raw or b'"id":"' not in raw:
        return raw
    if how == "outcome":  # another outcome, hash made to match: only the chain can tell
        return _rehashed(raw.replace(b'"outcome":"routed"', b'"outcome":"rejected"'))
    if how == "outcome, hash left":  # the record's own hash tells
        return raw.replace(b'"outcome":"routed"', b'"outcome":"rejected"')
    if how == "repeated":  # a second outcome and prev before the real ones: a parse keeps the last
        at = raw.index(b',"outcome":"')
        return _rehashed(raw[:at] + b',"outcome":"rejected","prev":"sha256:' + b"0" * 64 + b'"' + raw[at:])
    if how == "hash into a string":  # the hash member moved inside the event id: the bytes without it are intact
        rest = raw[: member.start()] + raw[member.end() :]
        at = rest.index(b'"id":"') + 8
        return rest[:at] + member.group() + rest[at:]
    if how == "sig taken off":
        return re.sub(rb'"sig":"[^"]*"', b'"sig":null', raw)
    if how == "escaped chain":  # the chain's name written with an escape, hash made to match
        return _rehashed(raw.replace(b'{"chain":"gkt', b'{"chain":"\\u0067kt', 1))
    at = raw.index(b'"id":"') + 6  # below: the line made no I-JSON where in-place reading does not look
    if how == "lone surrogate":
        return _rehashed(raw[:at] + b"\\ud800" + raw[at:])
    if how == "not UTF-8":
        return _rehashed(raw[:at] + b"\xff\xfe" + raw[at:])
    if how == "quote taken out":
        return _rehashed(raw[: at - 1] + raw[at:])
    return raw[: len(raw) // 2]  # garbled


def _verified(lines: list[bytes]) -> VerifyReport:
    verifier = ChainVerifier(KEYS)
    for number, line in enumerate(lines, start=1):
        verifier.feed_bytes(line, f"line {number}")
    return verifier.finish()


def _summary(report: VerifyReport) -> tuple[object, ...]:
    chains = {name: (s.records, s.verified, s.broken, s.outcomes) for name, s in report.chains.items()}
    return report.ok, report.records, report.verified, report.outcomes, chains


def _verdict(report: VerifyReport, chains: set[str]) -> tuple[object, ...]:
    """What an auditor acts on: whether it verifies, what a signature vouches for, and which chains break."""
    return report.ok, report.verified, report.outcomes, {c: report.chains[c].broken for c in chains}


def _kinds(report: VerifyReport) -> list[str]:
    return sorted(p.kind for p in report.problems)


_LOG: list[bytes] = []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_log_changed_anyhow_verifies_as_it_does_when_every_record_is_parsed(
    rules: Rules, data: st.DataObject
) -> None:
    """Reading in place never makes a chain pass that parsing fails, nor the reverse: a record read in place
    that the gateway did not write hashes to what its forger chose, and the chain's links and signatures tell."""
    if not _LOG:
        _LOG.extend(written(rules, 40, partitions=2))
    lines = list(_LOG)
    hows = [
        "outcome",
        "outcome, hash left",
        "repeated",
        "hash into a string",
        "sig taken off",
        "escaped chain",
        "lone surrogate",
        "not UTF-8",
        "quote taken out",
        "garbled",
    ]
    done = []
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        at = data.draw(st.integers(0, len(lines) - 1), label="line")
        done.append(data.draw(st.sampled_from(hows), label="how"))
        lines[at] = _forged(lines[at], done[-1])

    in_place = _verified(lines)
    with pytest.MonkeyPatch.context() as patch:  # not the fixture's: that would stay for the next examples
        patch.setattr("gateway.audit.verify.read_in_place", lambda *_: None)
        parsed = _verified(lines)
    both = in_place.chains.keys() & parsed.chains.keys()
    assert _verdict(in_place, both) == _verdict(parsed, both)
    for report in (in_place, parsed):  # a chain only one of them met is a forged line's, and broken there
        assert all(state.broken for name, state in report.chains.items() if name not in both)
    # A line in the gateway's layout, its hash made to match, that repeats a member or is no I-JSON where
    # in-place reading does not look: counted in its chain and refused by the next link, or named unreadable
    # by the parse (docs/audit.md). Otherwise the two reports are the same.
    if not {"repeated", "lone surrogate", "not UTF-8", "quote taken out"} & set(done):
        assert _summary(in_place) == _summary(parsed)
        assert _kinds(in_place) == _kinds(parsed)


def test_a_forged_record_read_in_place_is_refused_by_the_next_link(rules: Rules) -> None:
    """A repeated member whose hash was made to match is read in place (the first) and parsed (the last)
    differently; either way the next record does not follow it."""
    lines = written(rules, 3, partitions=1)
    lines[0] = _forged(lines[0], "repeated")
    read = read_in_place(lines[0])
    assert read is not None
    assert (read.outcome, json.loads(lines[0])["outcome"]) == ("rejected", "routed"), "the first, and the last"
    problems = _verified(lines).problems
    assert [(p.seq, p.kind, p.what) for p in problems] == [
        (1, "tampered", "prev does not equal the hash of the previous record")
    ]


@st.composite
def edited(draw: st.DrawFn, line: bytes) -> bytes:
    """``line`` with a few bytes changed, inserted or removed anywhere (the members' names, the digest, the sig)."""
    data = bytearray(line)
    for _ in range(draw(st.integers(1, 4), label="edits")):
        at = draw(st.integers(0, len(data)), label="at")
        kind = draw(st.sampled_from(["set", "insert", "delete"]), label="kind")
        byte = draw(st.sampled_from([*b'",:{}[]\\0123456789abcdef', 0x00, 0x1B, 0x7F, 0xC3, 0xFF]), label="byte")
        if kind == "insert":
            data.insert(at, byte)
        elif at < len(data):
            data[at : at + 1] = b"" if kind == "delete" else bytes([byte])
    return bytes(data)


_LINES: list[bytes] = []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_bytes_are_read_in_place_as_a_parse_reads_them_or_left_to_it(rules: Rules, data: st.DataObject) -> None:
    """Whatever a line holds (a gateway line edited anyhow, or any bytes), reading it in place never raises,
    and what it reads is what a parse of the same line reads; within a block too, whatever lies around it."""
    if not _LINES:
        _LINES.extend(written(rules, 12, partitions=1))
    line = data.draw(st.one_of(st.sampled_from(_LINES).flatmap(edited), st.binary(max_size=300)), label="line")
    assert check_in_place(line, KEYS) in (None, check_parsed(line, KEYS))
    before, after = data.draw(st.binary(max_size=40), label="before"), data.draw(st.binary(max_size=40), label="after")
    block = before + line + after
    assert read_in_place(block, len(before), len(before) + len(line)) == read_in_place(line)


@pytest.mark.parametrize("how", ["lone surrogate", "not UTF-8", "quote taken out"])
def test_a_forged_line_that_is_no_i_json_where_it_is_not_read_is_refused_by_the_next_link(
    rules: Rules, how: str
) -> None:
    """In-place reading does not parse what it does not read: such a line, its hash made to match, is taken
    as a record (a parse names it unreadable), and the record after it does not follow it."""
    lines = written(rules, 3, partitions=1)
    lines[0] = _forged(lines[0], how)
    assert read_in_place(lines[0]) is not None
    assert check_parsed(lines[0], KEYS) is None
    problems = _verified(lines).problems
    assert [(p.seq, p.kind, p.what) for p in problems] == [
        (1, "tampered", "prev does not equal the hash of the previous record")
    ]
