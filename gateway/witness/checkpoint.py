"""Checkpoints of the audit chains (spec/witness.md): what the gateway signs, and what witnesses cosign.

A checkpoint's text is four lines: the origin ``<gateway origin>/audit/<chain>``,
the number of records in the chain, the hash of its last record, and the time
the gateway wrote it. The gateway signs it as a C2SP signed note under its
origin (``gateway.witness.note``), with its own Ed25519 key.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.record import ChainHead
from gateway.keyset import GatewayKey, KeySet
from gateway.signing import Signer
from gateway.types import CHAIN_FORM, ChainId
from gateway.witness.note import ED25519, Note, NoteError, NoteSigner, Verifier, check_name, sign_note

DEFAULT_ORIGIN = "gkt.belastingdienst.nl"
_HASH = re.compile(r"sha256:[0-9a-f]{64}")
_SIZE = re.compile(r"[1-9][0-9]{0,15}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A chain's size and head hash at a moment, as the gateway claims it."""

    chain: ChainId
    size: int  # records in the chain: the head's seq + 1
    hash: str  # of the record at seq size - 1
    time: datetime

    def text(self, origin: str) -> bytes:
        moment = self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{origin}/audit/{self.chain}\n{self.size}\n{self.hash}\n{moment}\n".encode("ascii")

    @classmethod
    def of(cls, head: ChainHead, moment: datetime) -> "Checkpoint":
        return cls(head.chain, head.seq + 1, head.hash, moment)

    @classmethod
    def read(cls, text: bytes, origin: str) -> "Checkpoint":
        """The checkpoint in a note's text, which must name ``origin``; ``NoteError`` when it is none."""
        lines = text.decode("utf-8").split("\n")
        if len(lines) != 5 or lines[4]:
            raise NoteError("a checkpoint is four lines: origin, size, head hash, time")
        head = f"{origin}/audit/"
        name, size, digest, moment = lines[:4]
        chain = name[len(head) :]
        if not name.startswith(head) or not CHAIN_FORM.fullmatch(chain):
            raise NoteError(f"the origin line does not name a chain of {origin}")
        if not _SIZE.fullmatch(size) or not _HASH.fullmatch(digest) or not _TIME.fullmatch(moment):
            raise NoteError("size, head hash or time is not in the checkpoint's form")
        try:
            written = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError as exc:  # month 13, hour 25: the form, not a time
            raise NoteError("the checkpoint's time is no time") from exc
        return cls(ChainId(chain), int(size), digest, written)


def gateway_verifiers(keys: KeySet, origin: str) -> dict[bytes, tuple[Verifier, GatewayKey]]:
    """The gateway's Ed25519 public keys as note verifiers under its origin (the key name of its checkpoints),
    each with the key it is, whose validity dates the checkpoints it may sign."""
    check_name(origin)
    verifiers: dict[bytes, tuple[Verifier, GatewayKey]] = {}
    for key in keys:
        public = getattr(key.key, "public_key", None)
        if isinstance(public, Ed25519PublicKey):
            verifier = Verifier(origin, ED25519, public)
            verifiers[verifier.id] = (verifier, key)
    return verifiers


def checkpoint_note(checkpoint: Checkpoint, origin: str, signer: Signer) -> bytes:
    """The checkpoint as a note signed with the gateway's key under ``origin``."""
    return sign_note(checkpoint.text(origin), NoteSigner(origin, ED25519, signer.private))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint whose gateway signature verified, with the note it came in (kept as evidence)."""

    checkpoint: Checkpoint
    note: Note


def open_checkpoint(data: bytes, origin: str, gateway: dict[bytes, tuple[Verifier, GatewayKey]]) -> SignedCheckpoint:
    """The checkpoint in ``data`` if a gateway key valid at its time signed it; ``NoteError`` for anything else."""
    note = Note.parse(data)
    signers = [gateway[verifier.id][1] for verifier, _ in note.signers(v for v, _ in gateway.values())]
    if not signers:
        raise NoteError("not signed by a gateway key")
    checkpoint = Checkpoint.read(note.text, origin)
    if not any(key.valid_at(checkpoint.time) for key in signers):
        raise NoteError("signed by a gateway key that was not valid at the checkpoint's time")
    return SignedCheckpoint(checkpoint, note)
