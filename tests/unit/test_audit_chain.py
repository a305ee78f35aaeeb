"""Audit records: hash chain, signatures, and verification of tampering (G4)."""

import copy
import itertools
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.audit.index import AuditIndex, authenticated
from gateway.audit.record import GENESIS, record_hash
from gateway.audit.verify import verify
from gateway.keyset import GatewayKey, KeySet
from gateway.pipeline import Rules
from gateway.processor import Processor
from gateway.signing import Signer
from tests.helpers import inbound, nla

SIGNER = Signer.generate("gw-audit-1")
KEYS = KeySet.of(SIGNER)
START = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def chain(rules: Rules) -> list[dict]:
    index = AuditIndex()
    ticks = itertools.count()
    # One second per decision, so that every record has its own decided_at.
    processor = Processor(rules, SIGNER, index, "urn:x", clock=lambda: START + timedelta(seconds=next(ticks)))
    records = [inbound(nla(), offset=i) for i in range(4)] + [inbound(b"junk", kid=None, offset=4)]
    heads = {records[0].position.chain: index.head(records[0].position.chain)}
    return [json.loads(m.value) for m in processor.process(records, heads).audits]


def test_a_fresh_chain_verifies(chain: list[dict]) -> None:
    assert chain[0]["prev"] == GENESIS
    assert [r["seq"] for r in chain] == [0, 1, 2, 3, 4]
    report = verify(chain, KEYS)
    assert report.ok
    assert report.records == 5
    assert report.outcomes == {"routed": 4, "rejected": 1}


def test_hash_is_over_the_canonical_record(chain: list[dict]) -> None:
    assert all(r["hash"] == record_hash(r) for r in chain)


@pytest.mark.parametrize(
    ("change", "seq", "what"),
    [
        (lambda c: c[2].__setitem__("outcome", "rejected"), 2, "hash does not match"),
        (lambda c: c[1]["event"].__setitem__("kid", "other"), 1, "hash does not match"),
        (lambda c: c.pop(2), 3, "seq 3 follows 1"),
        (lambda c: c.insert(2, copy.deepcopy(c[1])), 1, "seq 1 follows 1"),
        (lambda c: c.__setitem__(slice(1, 3), [c[2], c[1]]), 2, "seq 2 follows 0"),
        (lambda c: c[3].__setitem__("sig", c[4]["sig"]), 3, "sig does not verify"),
    ],
)
def test_tampering_is_detected_at_the_right_record(chain: list[dict], change, seq: int, what: str) -> None:  # type: ignore[no-untyped-def]
    change(chain)
    report = verify(chain, KEYS)
    assert not report.ok
    problem = report.problems[0]
    assert (problem.seq, problem.kind) == (seq, "tampered")
    assert what in problem.what


def test_rehashed_edit_breaks_the_next_link(chain: list[dict]) -> None:
    chain[1]["outcome"] = "rejected"
    chain[1]["hash"] = record_hash(chain[1])
    problem = verify(chain, KEYS).problems[0]
    assert (problem.seq, problem.kind) == (2, "tampered")  # record 2 still links to the old hash
    assert "prev" in problem.what


def test_a_rehashed_tail_fails_at_the_checkpoint_signature(chain: list[dict]) -> None:
    """Rewriting every record from the edit on still leaves the signed checkpoint, which only the gateway can make."""
    chain[1]["outcome"] = "rejected"
    chain[1]["hash"] = record_hash(chain[1])
    for before, record in itertools.pairwise(chain[1:]):
        record["prev"] = before["hash"]
        record["hash"] = record_hash(record)
    problem = verify(chain, KEYS).problems[0]
    assert (problem.seq, problem.kind, problem.what) == (4, "tampered", "sig does not verify")


def test_signatures_sit_at_checkpoints_only(chain: list[dict]) -> None:
    """One write of one chain: only its last record is signed, and it vouches for the rest (spec/audit.md)."""
    assert [r["sig"] is not None for r in chain] == [False, False, False, False, True]


def test_an_unsigned_tail_is_unverifiable_not_tampered(chain: list[dict]) -> None:
    chain[4]["sig"] = None
    report = verify(chain, KEYS)
    assert [(p.seq, p.kind) for p in report.problems] == [(0, "unverifiable")]
    assert "not covered by a signature" in report.problems[0].what


def test_an_old_log_with_a_signature_on_every_record_still_verifies(chain: list[dict]) -> None:
    for record in chain:
        record["sig"] = SIGNER.sign(record["hash"].encode("ascii"))
    assert verify(chain, KEYS).ok


def test_unknown_key_is_unverifiable_not_tampered(chain: list[dict]) -> None:
    report = verify(chain, KeySet([]))
    assert report.problems[0].kind == "unverifiable"


def test_index_rebuilds_heads_and_identities(chain: list[dict]) -> None:
    index = AuditIndex()
    for record in chain:
        index.apply(record)
    head = index.head(chain[0]["chain"])
    assert (head.seq, head.offset, head.hash) == (4, 4, chain[-1]["hash"])
    assert len(index) == 4  # the junk record never authenticated
    event = chain[0]["event"]
    assert index.first(event["source"], event["id"]) is not None


def test_authenticated_by_outcome_and_reasons() -> None:
    assert authenticated({"outcome": "routed", "reasons": []})
    assert authenticated({"outcome": "rejected", "reasons": [{"code": "CONTRACT_VIOLATION"}]})
    assert not authenticated({"outcome": "rejected", "reasons": [{"code": "SIGNATURE_INVALID"}]})
    assert not authenticated({"outcome": "rejected", "reasons": [{"code": "EVENT_STALE"}]})


def test_a_retired_key_still_verifies_the_records_it_signed(chain: list[dict]) -> None:
    decided = datetime.fromisoformat(chain[-1]["decided_at"])
    retired = KeySet([GatewayKey(SIGNER.kid, SIGNER.key, not_after=decided + timedelta(seconds=1))])
    assert verify(chain, retired).ok


def test_a_record_signed_with_a_key_not_valid_at_its_time_is_detected(chain: list[dict]) -> None:
    third = datetime.fromisoformat(chain[2]["decided_at"])
    # The key was retired before record 2 was made: whoever signed the checkpoint (record 4) used a retired key.
    retired = KeySet([GatewayKey(SIGNER.kid, SIGNER.key, not_after=third)])
    problem = verify(chain, retired).problems[0]
    assert (problem.seq, problem.kind) == (4, "tampered")  # the checkpoint, signed after the key was retired
    assert "not valid at decided_at" in problem.what


def test_prune_forgets_only_identities_older_than_the_cutoff() -> None:
    from gateway.inbound import Position
    from gateway.stages.deduplicate import Original

    index = AuditIndex()
    index.remember("urn:a", "old", Position("gkt.in.nla", 0, 1), received_ms=1_000)
    index.remember("urn:a", "new", Position("gkt.in.nla", 0, 2), received_ms=5_000)
    assert index.prune(before_ms=2_000) == 1
    assert index.first("urn:a", "old") is None
    assert index.first("urn:a", "new") == Original(Position("gkt.in.nla", 0, 2))


def test_a_retry_of_a_pruned_report_is_stale_never_a_second_signal(rules: Rules) -> None:
    from gateway.reasons import Outcome
    from tests.helpers import NOW

    index = AuditIndex()
    processor = Processor(rules, SIGNER, index, "urn:x")
    chain = inbound(b"").position.chain
    heads = {chain: index.head(chain)}
    long_ago = NOW - timedelta(days=40)
    value = nla(long_ago)
    first = processor.process([inbound(value, at=long_ago, offset=0)], heads)
    assert [d.outcome for d in first.decisions] == [Outcome.ROUTED]
    keep_days = max(a.max_event_age_days for a in rules.agreements) + 1
    assert index.prune(int((NOW - timedelta(days=keep_days)).timestamp() * 1000)) == 1
    retry = processor.process([inbound(value, at=NOW, offset=1)], heads)
    assert [(d.outcome, [r.code.value for r in d.reasons]) for d in retry.decisions] == [
        (Outcome.REJECTED, ["EVENT_STALE"])
    ]


# The written bytes: canonical JSON, checked from the bytes, over several processes


def written(rules: Rules, count: int = 60, partitions: int = 4) -> list[bytes]:
    index = AuditIndex()
    processor = Processor(rules, SIGNER, index, "urn:x", clock=lambda: START)
    records = [inbound(nla(), offset=i // partitions, partition=i % partitions) for i in range(count)]
    heads = {r.position.chain: index.head(r.position.chain) for r in records}
    out: list[bytes] = []
    for start in range(0, count, 7):  # several writes, so several checkpoints per chain
        out += [m.value for m in processor.process(records[start : start + 7], heads).audits]
    return out


def test_every_record_is_written_as_its_canonical_json(rules: Rules) -> None:
    import rfc8785  # the reference encoder, not the gateway's fast path

    for raw in written(rules, 12):
        assert raw == rfc8785.dumps(json.loads(raw))


def test_the_hash_is_checked_from_the_bytes_and_a_changed_byte_falls_back_to_the_exact_check(rules: Rules) -> None:
    from gateway.audit.verify import ChainVerifier, sealed_digest

    raw = written(rules, 1)[0]
    record = json.loads(raw)
    assert sealed_digest(raw, record) == record["hash"]
    forged = raw.replace(b'"outcome":"routed"', b'"outcome":"rejected"')
    assert sealed_digest(forged, json.loads(forged)) is None
    verifier = ChainVerifier(KEYS)
    verifier.feed_bytes(forged, "line 1")
    assert [p.what for p in verifier.finish().problems] == ["hash does not match the record's content"]


def test_a_log_in_the_older_layout_still_verifies(rules: Rules) -> None:
    """Records written before the canonical layout (members in building order) are checked the exact way."""
    from contracts.jsonio import dumps
    from gateway.audit.verify import ChainVerifier

    verifier = ChainVerifier(KEYS)
    for number, raw in enumerate(written(rules, 20)):
        record = json.loads(raw)
        reordered = {name: record[name] for name in ["seq", "chain", *[k for k in record if k not in ("seq", "chain")]]}
        verifier.feed_bytes(dumps(reordered), str(number))
    report = verifier.finish()
    assert report.ok, report.problems
    assert report.verified == 20


def test_a_duplicate_member_name_is_refused_on_either_path(rules: Rules) -> None:
    from gateway.audit.verify import ChainVerifier

    raw = written(rules, 1)[0]
    doubled = raw.replace(b'{"chain":', b'{"outcome":"rejected","chain":', 1)
    verifier = ChainVerifier(KEYS)
    verifier.feed_bytes(doubled, "line 1")
    assert [p.kind for p in verifier.finish().problems] == ["tampered"]


@pytest.mark.parametrize(
    ("pattern", "replacement"),
    [
        (rb'"seq":\d+', b'"seq":1180591620717411303424'),  # beyond 64 bits: the fast parser refuses it
        (rb'"chain":"', rb'"chain":"\ud800'),  # a lone surrogate
        (rb'"chain":"', b'"chain":"\xff'),  # not UTF-8
    ],
)
def test_what_the_fast_parser_refuses_is_judged_on_the_exact_path(
    rules: Rules, pattern: bytes, replacement: bytes
) -> None:
    import re

    from gateway.audit.verify import ChainVerifier

    raw = written(rules, 1)[0]
    changed = re.sub(pattern, replacement.replace(b"\\", b"\\\\"), raw, count=1)
    assert changed != raw
    verifier = ChainVerifier(KEYS)
    verifier.feed_bytes(changed, "line 1")
    assert [p.kind for p in verifier.finish().problems][:1] == ["tampered"]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_several_processes_report_what_one_does(rules: Rules, tmp_path, workers: int) -> None:  # type: ignore[no-untyped-def]
    from gateway.audit.parallel import verify_export
    from gateway.audit.sources import line_count
    from gateway.audit.verify import ChainVerifier

    lines = written(rules, 80)
    lines[17] = lines[17].replace(b'"outcome":"routed"', b'"outcome":"rejected"')  # tampered, in one chain
    lines.insert(30, b"not json")
    export = tmp_path / "audit.jsonl"
    export.write_bytes(b"\n".join(lines) + b"\n")
    single = ChainVerifier(KEYS)
    for number, raw in enumerate(lines, start=1):
        single.feed_bytes(raw, f"{export}:{number}")
    expected = single.finish()
    seen: list[int] = []
    # Slices of 4 KiB: several even for this small export, so that the workers share it.
    report = verify_export(export, KEYS, workers, seen.append, slice_bytes=4_096).finish()
    assert report.records == expected.records == 80
    assert report.outcomes == expected.outcomes
    assert sorted(report.problems, key=str) == sorted(expected.problems, key=str)
    assert {p.kind for p in report.problems} == {"tampered"}
    assert seen[-1] == len(lines) == line_count(export), "progress reaches every line, and the total shown"


_WRITTEN: list[bytes] = []


def _written_once(rules: Rules) -> list[bytes]:
    if not _WRITTEN:
        _WRITTEN.extend(written(rules, 90, partitions=3))
    return _WRITTEN


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_slices_joined_report_exactly_what_one_process_does_whatever_was_done_to_the_log(
    rules: Rules, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """The workers' slices, joined (``SliceVerifier``, ``ChainVerifier.join``), give the one-process report for
    any log: lines changed, dropped, repeated, moved or garbled, and slices cut anywhere."""
    from gateway.audit.parallel import check_slice, join_slices, slices
    from gateway.audit.verify import ChainVerifier

    lines = list(_written_once(rules))
    for _ in range(data.draw(st.integers(0, 4), label="changes")):
        at = data.draw(st.integers(0, len(lines) - 1))
        kind = data.draw(st.sampled_from(["outcome", "drop", "repeat", "move", "garble", "unsign"]))
        if kind == "outcome":
            lines[at] = lines[at].replace(b'"outcome":"routed"', b'"outcome":"rejected"')
        elif kind == "drop":
            del lines[at]
        elif kind == "repeat":
            lines.insert(at, lines[at])
        elif kind == "move":
            lines.insert(data.draw(st.integers(0, len(lines) - 1)), lines.pop(at))
        elif kind == "garble":
            lines[at] = lines[at][: len(lines[at]) // 2]
        else:  # a signature taken off, most often near the end: a chain's tail left unsigned across slices
            at = data.draw(st.sampled_from([at, *range(max(0, len(lines) - 12), len(lines))]))
            lines[at] = re.sub(rb'"sig":"[^"]*"', b'"sig":null', lines[at])
    export = tmp_path_factory.mktemp("slices") / "audit.jsonl"
    export.write_bytes(b"\n".join(lines) + b"\n")
    single = ChainVerifier(KEYS)
    for number, raw in enumerate(lines, start=1):
        single.feed_bytes(raw, f"{export}:{number}")
    expected = single.finish()
    joined = ChainVerifier(KEYS)
    size = data.draw(st.integers(200, 60_000), label="slice bytes")
    checked = (check_slice((str(export), start, end), KEYS, {}) for start, end in slices(export, size))
    join_slices(joined, export, checked)  # as the workers cut it, in file order, in this process
    report = joined.finish()
    assert report.records == expected.records
    assert report.outcomes == expected.outcomes
    assert report.verified == expected.verified
    assert sorted(map(str, report.problems)) == sorted(map(str, expected.problems))
    for chain, state in expected.chains.items():
        got = report.chains[chain]
        assert (got.records, got.verified, got.broken, got.last_seq) == (
            state.records, state.verified, state.broken, state.last_seq
        ), chain  # fmt: skip


@pytest.mark.parametrize("in_place", [True, False])
@pytest.mark.parametrize(
    "chain", ["BSN 123456782 Jansen", "gkt.in.nla/0\x1b[2J123456782", "gkt.in.nla/007", "Jansen 123456782 " * 4_000]
)
def test_a_chain_name_that_is_no_chain_id_is_named_masked(
    rules: Rules, monkeypatch: pytest.MonkeyPatch, in_place: bool, chain: str
) -> None:
    """Whoever may write gkt.audit, or an export, chooses a forged record's chain: a name, a BSN, a terminal
    escape. Verify's report names it only by its shape, in <>, whichever way the record was read."""
    import hashlib

    from gateway.audit.verify import ChainVerifier, plain

    if not in_place:
        monkeypatch.setattr("gateway.audit.verify.read_in_place", lambda *_: None)
    raw = written(rules, 1)[0].replace(b'"chain":"gkt.in.nla/0"', b'"chain":' + json.dumps(chain).encode())
    at, sig = raw.index(b',"hash":"sha256:'), re.search(rb',"sig":(null|"[^"]*")', raw)
    assert sig is not None
    body = raw[:at] + raw[at + 81 : sig.start()] + raw[sig.end() :]  # the forger's hash, made to match
    raw = raw[:at] + b',"hash":"sha256:' + hashlib.sha256(body).hexdigest().encode() + raw[at + 80 :]
    verifier = ChainVerifier(KEYS)
    verifier.feed_bytes(raw, "line 1")
    report = verifier.finish()
    shown = json.dumps(report.as_json()) + "".join(plain(p) for p in report.problems)
    assert "123456782" not in shown
    assert "Jansen" not in shown
    assert "\x1b" not in shown
    [name] = report.chains
    assert (name[0], name[-1]) == ("<", ">"), "never taken for a chain id"


def test_only_chain_names_as_short_as_a_chain_id_are_remembered() -> None:
    """Verify remembers how it shows each chain name; a forged export with many long names must not fill
    memory with them (a line of a megabyte may hold a chain name of nearly that)."""
    from gateway.audit.verify import CHAIN_MAX, _shown, shown_chain

    _shown.cache_clear()
    longest = "t" * 249 + "/999999"
    assert len(longest) == CHAIN_MAX
    assert shown_chain(longest) == longest
    for n in range(50):
        shown = shown_chain(f"Jansen {n} " + "x" * CHAIN_MAX)
        assert (shown[0], shown[-1], len(shown)) == ("<", ">", 66)
        assert "Jansen" not in shown
    assert _shown.cache_info().currsize == 1
