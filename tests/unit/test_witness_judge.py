"""What a witness decides (spec/witness.md, W1, W2): it cosigns only a checkpoint whose chain, as the log holds
it, leads from the head it cosigned before; and verify with its cosignatures finds every cut and rewrite."""

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.audit.record import GENESIS, seal, sign_checkpoint
from gateway.audit.verify import ChainVerifier, check_bytes
from gateway.keyset import KeySet
from gateway.signing import Signer
from gateway.types import ChainId
from gateway.witness.checkpoint import Checkpoint, checkpoint_note, gateway_verifiers, open_checkpoint
from gateway.witness.contained import Claims
from gateway.witness.judge import ChainWalk, Refusal, Seen, order_refusal
from gateway.witness.note import COSIGNATURE_V1, Note, NoteSigner

GATEWAY = Signer.generate("gw-1")
KEYS = KeySet.of(GATEWAY)
ORIGIN = "gkt.test.example"
VERIFIERS = gateway_verifiers(KEYS, ORIGIN)
CHAIN = ChainId("gkt.in.nla/0")
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WITNESS = NoteSigner("witness.example/w1", COSIGNATURE_V1, GATEWAY.private)


def body(seq: int, outcome: str = "routed") -> dict[str, Any]:
    """An audit record's body: what the chain checks need (seq, prev, hash over the canonical form)."""
    return {
        "chain": CHAIN,
        "seq": seq,
        "prev": GENESIS,
        "decided_at": (START + timedelta(seconds=seq)).isoformat(),
        "event": {"id": None, "source": None, "type": None, "dataschema": None, "digest": None, "kid": None},
        "inbound": {"topic": "gkt.in.nla", "partition": 0, "offset": seq, "timestamp": None},
        "outcome": outcome,
        "reasons": [],
        "original": None,
        "destination": None,
        "versions": {"gateway": "test"},
    }


def linked(bodies: list[dict[str, Any]]) -> list[bytes]:
    """The bodies as a chain: each ``prev`` the hash before it, the last signed, as the gateway writes."""
    prev, sealed = GENESIS, []
    for item in bodies:
        sealed.append(seal({**item, "prev": prev}))  # type: ignore[typeddict-item]
        prev = str(sealed[-1].record["hash"])
    if sealed:
        sign_checkpoint(sealed[-1].record, GATEWAY)
    return [s.encoded() for s in sealed]


def hashes(lines: list[bytes]) -> list[str]:
    return [str(check_bytes(line, KEYS).hash) for line in lines]  # type: ignore[union-attr]


def signed(size: int, head: str, minutes: int = 0):  # type: ignore[no-untyped-def]
    note = checkpoint_note(Checkpoint(CHAIN, size, head, START + timedelta(minutes=minutes)), ORIGIN, GATEWAY)
    return open_checkpoint(note, ORIGIN, VERIFIERS)


def walk(seen: Seen, checkpoints: list, lines: list[bytes]):  # type: ignore[no-untyped-def]
    refusal = order_refusal(seen, checkpoints)
    if refusal is not None:
        return refusal
    chain_walk = ChainWalk(seen, checkpoints)
    for offset, line in enumerate(lines):
        checked = check_bytes(line, KeySet([]))
        if checked is not None:
            chain_walk.take(checked, offset)
    return chain_walk.judge()


HONEST = [body(seq) for seq in range(12)]
LINES = linked(HONEST)
HASHES = hashes(LINES)


def test_a_checkpoint_that_extends_the_cosigned_head_is_cosigned_the_newest_of_several() -> None:
    seen = Seen(5, HASHES[4])
    outcome = walk(seen, [signed(8, HASHES[7]), signed(12, HASHES[11])], LINES[4:])
    assert not isinstance(outcome, Refusal)
    assert outcome is not None
    assert outcome.checkpoint.size == 12
    assert walk(seen, [signed(5, HASHES[4])], LINES) is None, "the cosigned checkpoint again: nothing new"


def test_rollback_fork_truncation_and_rewrite_are_each_refused_with_what_was_seen() -> None:
    seen = Seen(8, HASHES[7])
    rollback = walk(seen, [signed(6, HASHES[5])], LINES)
    assert isinstance(rollback, Refusal)
    assert rollback.what.startswith("rollback")
    forked = linked([*HONEST[:3], body(3, "rejected"), *HONEST[4:]])
    fork = walk(seen, [signed(8, hashes(forked)[7])], forked)
    assert isinstance(fork, Refusal)
    assert fork.what.startswith("fork")
    truncated = walk(seen, [signed(12, HASHES[11])], LINES[:10])
    assert isinstance(truncated, Refusal)
    assert truncated.what.startswith("truncated")
    rewritten = walk(seen, [signed(12, hashes(forked)[11])], forked)
    assert isinstance(rewritten, Refusal)
    assert "no longer extends" in rewritten.what
    within = walk(seen, [signed(10, HASHES[9]), signed(10, "sha256:" + "e" * 64)], LINES)
    assert isinstance(within, Refusal)
    assert within.what.startswith("fork"), "two heads at one size among new checkpoints"
    backwards = walk(seen, [signed(11, HASHES[10]), signed(9, HASHES[8], minutes=1)], LINES)
    assert isinstance(backwards, Refusal)
    assert backwards.what.startswith("rollback"), "a smaller one, signed after a larger one"


def test_an_old_checkpoint_read_again_is_passed_by_not_called_a_rollback() -> None:
    """Anyone who may write gkt.checkpoints can copy an old checkpoint, and records may come out of order:
    a smaller checkpoint the gateway signed before the larger one it had shown is no rollback."""
    seen = Seen(8, HASHES[7], START + timedelta(minutes=5))
    copied = walk(seen, [signed(6, HASHES[5], minutes=2), signed(12, HASHES[11], minutes=6)], LINES)
    assert not isinstance(copied, Refusal)
    assert copied is not None
    assert copied.checkpoint.size == 12, "the newer one is cosigned as ever"
    reordered = walk(seen, [signed(12, HASHES[11], minutes=6), signed(10, HASHES[9], minutes=5)], LINES)
    assert not isinstance(reordered, Refusal)
    assert walk(seen, [signed(6, HASHES[5], minutes=7)], LINES).what.startswith("rollback")  # type: ignore[union-attr]


Operation = tuple[str, int]


@settings(max_examples=250, deadline=None)
@given(
    st.integers(1, 14),
    st.data(),
)
def test_a_witness_never_cosigns_a_checkpoint_that_does_not_extend_what_it_cosigned(
    length: int, data: st.DataObject
) -> None:
    """Any chain, any cosigned size, any tampering the operator can do with the gateway's key (change, drop,
    insert, truncate, append records, then reorder, copy or leave out some on the topic; sign any head): a
    cosignature only ever names the chain the log holds, and only when its first ``cosigned`` records are the
    ones the witness saw."""
    honest = [body(seq) for seq in range(length)]
    cosigned = data.draw(st.integers(1, length), label="cosigned size")
    operations = data.draw(
        st.lists(
            st.tuples(st.sampled_from(["change", "drop", "insert", "truncate", "append"]), st.integers(0, 20)),
            max_size=4,
        ),
        label="operations",
    )
    tampered = [dict(b) for b in honest]
    for kind, at in operations:
        where = at % (len(tampered) + 1)
        if kind == "change" and tampered:
            where %= len(tampered)
            tampered[where] = {
                **tampered[where],
                "outcome": "rejected" if tampered[where]["outcome"] == "routed" else "routed",
            }
        elif kind == "drop" and tampered:
            del tampered[where % len(tampered)]
        elif kind == "insert":
            tampered.insert(where, body(0, "quarantined"))
        elif kind == "truncate":
            tampered = tampered[:where]
        elif kind == "append":
            tampered.append(body(0, "duplicate"))
    tampered = [{**b, "seq": seq, "inbound": {**b["inbound"], "offset": seq}} for seq, b in enumerate(tampered)]
    lines = linked(tampered)
    truth = hashes(lines)
    order = data.draw(
        st.permutations(range(len(lines)))
        if data.draw(st.booleans(), label="reorder")
        else st.just(list(range(len(lines))))
    )
    copies = data.draw(st.lists(st.integers(0, max(0, len(lines) - 1)), max_size=3), label="copies") if lines else []
    omitted = (
        data.draw(st.sets(st.integers(0, max(0, len(lines) - 1)), max_size=2), label="omitted") if lines else set()
    )
    delivered = [lines[i] for i in order if i not in omitted] + [lines[i] for i in copies]
    claims = data.draw(
        st.lists(
            st.tuples(st.integers(1, 20), st.booleans()).map(
                lambda c: (c[0], truth[c[0] - 1] if c[1] and c[0] <= len(truth) else "sha256:" + "f" * 64)
            ),
            max_size=2,
        ),
        label="more checkpoints",
    )
    if truth:  # the operator's natural move: a checkpoint of the chain as it now stands
        claims.append((len(truth), truth[-1]))
    if not claims:
        return
    seen = Seen(cosigned, hashes(linked(honest))[cosigned - 1])
    outcome = walk(seen, [signed(size, head) for size, head in claims], delivered)
    if outcome is None or isinstance(outcome, Refusal):
        return
    intact = tampered[:cosigned] == [
        {**b, "inbound": {**b["inbound"], "offset": i}} for i, b in enumerate(honest[:cosigned])
    ]
    assert intact, "cosigned a chain whose cosigned records were changed"
    assert outcome.checkpoint.size > cosigned
    assert outcome.checkpoint.hash == truth[outcome.checkpoint.size - 1], "cosigned a head the log does not hold"


def verified_with(lines: list[bytes], claims: Claims) -> list[tuple[str, str]]:
    verifier = ChainVerifier(KEYS)
    claims.expect(verifier)
    for line in lines:
        verifier.feed_bytes(line, "test")
    report = verifier.finish()
    return [(p.kind, p.what) for p in [*report.problems, *claims.problems(verifier)]]


def cosigned_note(size: int, head: str) -> bytes:
    note = Note.parse(checkpoint_note(Checkpoint(CHAIN, size, head, START), ORIGIN, GATEWAY))
    return note.with_line(WITNESS.line(note.text, 1_700_000_000)).encoded()


def test_verify_with_witnesses_finds_a_cut_a_rewrite_and_a_chain_left_out() -> None:
    claims = Claims()
    claims.add(cosigned_note(10, HASHES[9]), ORIGIN, VERIFIERS, [WITNESS.verifier])
    assert set(claims.cosigned) == {CHAIN}
    assert verified_with(LINES, claims) == [], "the whole log holds the cosigned checkpoint"
    cut = verified_with(linked(HONEST[:7]), claims)
    assert [kind for kind, _ in cut] == ["truncated"]
    assert "has 7 records; a checkpoint cosigned by witness.example/w1 names 10" in cut[0][1]
    rewritten = verified_with(linked([body(0, "rejected"), *HONEST[1:]]), claims)
    assert [kind for kind, _ in rewritten] == ["tampered"]
    other = [line.replace(b"gkt.in.nla/0", b"gkt.in.kvk/0") for line in linked([body(0)])]
    assert ("truncated", "the chain is missing; a checkpoint cosigned by witness.example/w1 names 10 records") in (
        verified_with(other, claims)
    )
    # Without a witness, the gateway's own checkpoints are held against the log too.
    alone = Claims()
    alone.add(checkpoint_note(Checkpoint(CHAIN, 10, HASHES[9], START), ORIGIN, GATEWAY), ORIGIN, VERIFIERS, [])
    assert alone.cosigned == {}
    assert [kind for kind, _ in verified_with(linked(HONEST[:7]), alone)] == ["truncated"]
    # A cosignature by a key no verifier was given vouches for nothing; a forged note is counted, not trusted.
    stranger = Claims()
    stranger.add(
        cosigned_note(10, HASHES[9]),
        ORIGIN,
        VERIFIERS,
        [NoteSigner("w2", COSIGNATURE_V1, Signer.generate("x").private).verifier],
    )
    stranger.add(b"not a note", ORIGIN, VERIFIERS, [])
    assert (stranger.cosigned, stranger.unreadable) == ({}, 1)


def test_an_empty_log_is_not_verified() -> None:
    assert [(k, w) for k, w in verified_with([], Claims())] == [("empty", "no audit record: nothing was verified")]
