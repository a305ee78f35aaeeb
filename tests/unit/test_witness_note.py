"""Signed notes and cosignatures (C2SP signed-note, tlog-cosignature), against the reference implementation's
published vectors (golang.org/x/mod/sumdb/note, note_test.go), and checkpoints of the audit chains."""

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.audit.record import ChainHead
from gateway.keyset import GatewayKey, KeySet
from gateway.signing import Signer
from gateway.types import ChainId
from gateway.witness.checkpoint import Checkpoint, checkpoint_note, gateway_verifiers, open_checkpoint
from gateway.witness.note import COSIGNATURE_V1, ED25519, Note, NoteError, NoteSigner, Verifier, key_id, sign_note
from gateway.witness.schedule import CheckpointSchedule

# golang.org/x/mod/sumdb/note, note_test.go: the key pair, the text and the signature line it makes.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = b"If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIGNATURE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ORIGIN = "gkt.test.example"
GATEWAY = Signer.generate("gw-1")
CHAIN = ChainId("gkt.in.nla/0")


def test_the_reference_vectors_sign_and_verify_byte_for_byte() -> None:
    signer = NoteSigner.parse(GO_SKEY)
    assert signer.verifier.vkey == GO_VKEY
    assert sign_note(GO_TEXT, signer) == GO_TEXT + b"\n" + GO_SIGNATURE.encode()
    note = Note.parse(GO_TEXT + b"\n" + GO_SIGNATURE.encode())
    assert note.verified([Verifier.parse(GO_VKEY)]) == {"PeterNeumann": 0}
    assert key_id("PeterNeumann", ED25519, Verifier.parse(GO_VKEY).public.public_bytes_raw()).hex() == "c74f20a3"


@pytest.mark.parametrize(
    "vkey",
    [
        GO_VKEY.replace("c74f20a3", "c74f20a4"),  # another key ID
        GO_VKEY.replace("PeterNeumann", "PeterNeuman"),  # the ID is over the name too
        GO_VKEY + "=",  # not canonical base64
        "PeterNeumann+c74f20a3",  # no key
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # a space in the name
        GO_VKEY.replace("+ARpc", "+BRpc"),  # an unknown signature type
    ],
)
def test_a_mangled_verifier_key_is_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        Verifier.parse(vkey)


def test_a_signature_of_an_unknown_key_is_passed_by_and_a_bad_one_of_a_known_key_refuses_the_note() -> None:
    other = NoteSigner("PeterNeumann", ED25519, Ed25519PrivateKey.generate())  # same name, another key ID
    note = Note.parse(sign_note(GO_TEXT, other))
    assert note.verified([Verifier.parse(GO_VKEY)]) == {}
    forged = GO_TEXT.replace(b"problem,", b"problem;") + b"\n" + GO_SIGNATURE.encode()
    with pytest.raises(NoteError, match="does not verify"):
        Note.parse(forged).verified([Verifier.parse(GO_VKEY)])


def test_a_cosignature_is_timestamped_and_signs_the_header_time_and_text() -> None:
    witness = NoteSigner("witness.example/w1", COSIGNATURE_V1, Ed25519PrivateKey.generate())
    line = witness.line(GO_TEXT, 1679315147)
    raw = base64.b64decode(line.split(" ")[2])
    assert raw[:4] == key_id("witness.example/w1", COSIGNATURE_V1, witness.verifier.public.public_bytes_raw())
    assert int.from_bytes(raw[4:12], "big") == 1679315147
    message = b"cosignature/v1\ntime 1679315147\n" + GO_TEXT
    witness.verifier.public.verify(raw[12:], message)  # raises if it is not over exactly this message
    note = Note.parse(sign_note(GO_TEXT, NoteSigner.parse(GO_SKEY))).with_line(line)
    assert note.verified([witness.verifier, Verifier.parse(GO_VKEY)]) == {
        "PeterNeumann": 0,
        "witness.example/w1": 1679315147,
    }
    # A plain signature key and a cosignature key of one name are two keys (the type is in the key ID).
    as_plain = Verifier(witness.name, ED25519, witness.verifier.public)
    assert note.verified([as_plain]) == {}


@pytest.mark.parametrize(
    "data",
    [
        GO_TEXT,  # no signatures
        GO_TEXT + b"\n",  # a blank line, then none
        GO_TEXT + b"\n" + GO_SIGNATURE.encode().rstrip(b"\n"),  # no final newline
        GO_TEXT + b"\n- PeterNeumann x08g=\n",  # not an em dash
        GO_TEXT.replace(b"\n", b"\r\n", 1) + b"\n" + GO_SIGNATURE.encode(),  # a control character
        b"\xff" + GO_TEXT + b"\n" + GO_SIGNATURE.encode(),  # not UTF-8
        GO_TEXT + b"\n" + GO_SIGNATURE.encode() * 101,  # more signatures than anyone needs
    ],
)
def test_a_malformed_note_is_refused(data: bytes) -> None:
    with pytest.raises(NoteError):
        Note.parse(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_are_a_note_or_a_note_error(data: bytes) -> None:
    """Anyone who can write gkt.checkpoints can write anything: it is read or refused, never a crash."""
    gateway = gateway_verifiers(KeySet.of(GATEWAY), ORIGIN)
    try:
        open_checkpoint(data, ORIGIN, gateway)
    except NoteError:
        return
    raise AssertionError("random bytes verified as a gateway checkpoint")


def test_a_checkpoint_reads_back_as_written_and_only_with_the_gateway_key_valid_at_its_time() -> None:
    moment = datetime(2026, 3, 2, 10, 15, 0, 412_000, tzinfo=UTC)
    checkpoint = Checkpoint(CHAIN, 1042, "sha256:" + "ab" * 32, moment)
    note = checkpoint_note(checkpoint, ORIGIN, GATEWAY)
    text = note.split(b"\n\n")[0].decode()
    assert text == f"{ORIGIN}/audit/gkt.in.nla/0\n1042\nsha256:{'ab' * 32}\n2026-03-02T10:15:00Z"
    opened = open_checkpoint(note, ORIGIN, gateway_verifiers(KeySet.of(GATEWAY), ORIGIN))
    assert opened.checkpoint == Checkpoint(CHAIN, 1042, "sha256:" + "ab" * 32, moment.replace(microsecond=0))
    with pytest.raises(NoteError, match="not signed by a gateway key"):
        open_checkpoint(note, ORIGIN, gateway_verifiers(KeySet.of(Signer.generate("gw-2")), ORIGIN))
    retired = KeySet([GatewayKey("gw-1", GATEWAY.key, not_after=datetime(2026, 1, 1, tzinfo=UTC))])
    with pytest.raises(NoteError, match="not valid at the checkpoint's time"):
        open_checkpoint(note, ORIGIN, gateway_verifiers(retired, ORIGIN))
    # The key name is the origin: another deployment's gateway (another origin) signs nothing of ours.
    with pytest.raises(NoteError, match="not signed by a gateway key"):
        open_checkpoint(note, "another.example", gateway_verifiers(KeySet.of(GATEWAY), "another.example"))
    other_origin = sign_note(checkpoint.text("another.example"), NoteSigner(ORIGIN, ED25519, GATEWAY.private))
    with pytest.raises(NoteError, match="does not name a chain"):
        open_checkpoint(other_origin, ORIGIN, gateway_verifiers(KeySet.of(GATEWAY), ORIGIN))


@pytest.mark.parametrize(
    "text",
    [
        "gkt.test.example/audit/gkt.in.nla/0\n0\nsha256:" + "0" * 64 + "\n2026-03-02T10:15:00Z\n",  # empty chain
        "gkt.test.example/audit/gkt.in.nla/0\n01\nsha256:" + "0" * 64 + "\n2026-03-02T10:15:00Z\n",  # leading zero
        "gkt.test.example/audit/gkt.in.nla/0\n1\nsha256:" + "0" * 63 + "\n2026-03-02T10:15:00Z\n",  # short hash
        "gkt.test.example/audit/gkt.in.nla\n1\nsha256:" + "0" * 64 + "\n2026-03-02T10:15:00Z\n",  # no partition
        "gkt.test.example/audit/gkt.in.nla/0\n1\nsha256:" + "0" * 64 + "\n2026-03-02\n",  # no time
        "gkt.test.example/audit/gkt.in.nla/0\n1\nsha256:" + "0" * 64 + "\n2026-13-02T25:15:00Z\n",  # no such time
        "gkt.test.example/audit/gkt.in.nla/0\n1\nsha256:" + "0" * 64 + "\n2026-03-02T10:15:00Z\nmore\n",
    ],
)
def test_a_gateway_signed_text_that_is_no_checkpoint_is_refused(text: str) -> None:
    note = sign_note(text.encode(), NoteSigner(ORIGIN, ED25519, GATEWAY.private))
    with pytest.raises(NoteError):
        open_checkpoint(note, ORIGIN, gateway_verifiers(KeySet.of(GATEWAY), ORIGIN))


def test_checkpoints_go_out_once_a_period_for_grown_chains_and_at_stop_and_for_chains_that_leave() -> None:
    now = [0.0]
    schedule = CheckpointSchedule("gkt.checkpoints", ORIGIN, GATEWAY, 60, clock=lambda: now[0])
    other = ChainId("gkt.in.kvk/1")
    schedule.written({CHAIN: ChainHead(CHAIN, 9, "sha256:" + "1" * 64, 9)})
    assert schedule.due() == [], "not before a period has passed"
    now[0] = 61
    due = schedule.due()
    assert [(m.topic, m.key) for m in due] == [("gkt.checkpoints", CHAIN.encode())]
    assert b"\n10\nsha256:" + b"1" * 64 in due[0].value
    now[0] = 200
    assert schedule.due() == [], "a chain that did not grow gets no new checkpoint"
    schedule.written(
        {CHAIN: ChainHead(CHAIN, 12, "sha256:" + "2" * 64, 12), other: ChainHead(other, 0, "sha256:" + "3" * 64, 0)}
    )
    assert [m.key for m in schedule.leaving([other])] == [other.encode()]
    assert [m.key for m in schedule.due(stopping=True)] == [CHAIN.encode()], "the chain that left is forgotten"
    schedule.written({CHAIN: ChainHead(CHAIN, 13, "sha256:" + "4" * 64, 13)})
    assert [m.key for m in schedule.due(stopping=True)] == [CHAIN.encode()], "at stop, whatever the period"
