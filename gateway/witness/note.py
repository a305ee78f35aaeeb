"""Signed notes (C2SP ``signed-note``) and Ed25519 cosignatures (C2SP ``tlog-cosignature``, v1).

A note is UTF-8 text ending in a newline, a blank line, then signature lines
``— <key name> <base64(key ID ‖ signature)>``. The key ID is the first four
bytes of SHA-256(key name ‖ 0x0A ‖ type ‖ public key): type 0x01 for a plain
Ed25519 signature over the text, 0x04 for a witness's cosignature, which signs
``cosignature/v1\\ntime <t>\\n`` followed by the text and carries ``t`` as eight
big-endian bytes before the signature. Keys are written as the reference
implementation (golang.org/x/mod/sumdb/note) writes them: a verifier key is
``<name>+<hex key ID>+<base64(type ‖ public key)>``.

Nothing here trusts the note: a signature counts only when its name and key ID
are those of a key the caller gave, and then it must verify.
"""

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519, COSIGNATURE_V1 = 0x01, 0x04
MAX_NOTE_BYTES = 65_536  # a checkpoint with a hundred cosignatures is under 20 KiB
MAX_SIGNATURES = 100  # the reference implementation's limit; the spec asks for at least 16
_DASH = "\u2014 "
_COSIGNATURE_HEADER = "cosignature/v1\ntime {}\n"
_NAME = re.compile(r"[^\s+]+")  # non-empty, no Unicode space, no plus
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class NoteError(ValueError):
    """The bytes are not a well-formed signed note, or a key is not a well-formed key."""


def key_id(name: str, kind: int, public: bytes) -> bytes:
    """The four bytes that name a key in a signature line, with its name."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([kind]) + public).digest()[:4]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes_raw()


def _b64decode(text: str) -> bytes:
    if not _BASE64.fullmatch(text) or len(text) % 4:
        raise NoteError("not standard base64")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("not standard base64") from exc
    if base64.b64encode(data).decode("ascii") != text:
        raise NoteError("not canonical base64")
    return data


def _key_material(text: str) -> tuple[int, bytes]:
    """The type and the 32 key bytes of a key's base64 part (type byte, then the key)."""
    data = _b64decode(text)
    if len(data) != 33 or data[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("only Ed25519 keys (type 0x01) and cosignature keys (type 0x04) are known here")
    return data[0], data[1:]


def _check_id(hex_id: str, name: str, kind: int, public: bytes) -> None:
    if hex_id != key_id(name, kind, public).hex():
        raise NoteError("the key ID does not match the key's name and material")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise NoteError("a key name is non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True, slots=True)
class Verifier:
    """A public key a caller trusts: its name, type (0x01 or 0x04) and Ed25519 key."""

    name: str
    kind: int
    public: Ed25519PublicKey

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.kind, _raw(self.public))

    @property
    def vkey(self) -> str:
        """The key as one line, as witnesses and log clients exchange it."""
        material = base64.b64encode(bytes([self.kind]) + _raw(self.public)).decode("ascii")
        return f"{self.name}+{self.id.hex()}+{material}"

    @classmethod
    def parse(cls, vkey: str) -> "Verifier":
        """A verifier key line; its key ID must be the one its name and key give."""
        parts = vkey.strip().split("+", 2)  # the base64 may hold a plus too
        if len(parts) != 3:
            raise NoteError("a verifier key is <name>+<hex key ID>+<base64 key>")
        name, hex_id, material = parts
        kind, public = _key_material(material)
        _check_id(hex_id, check_name(name), kind, public)
        return cls(name, kind, Ed25519PublicKey.from_public_bytes(public))

    def check(self, text: bytes, signature: bytes) -> int | None:
        """The signature's time (0 for a plain signature) if it verifies over ``text``; None if not."""
        if self.kind == ED25519:
            message, body, moment = text, signature, 0
        else:
            if len(signature) != 8 + 64:
                return None
            moment = int.from_bytes(signature[:8], "big")
            if moment >= 1 << 63:
                return None
            message, body = _COSIGNATURE_HEADER.format(moment).encode("ascii") + text, signature[8:]
        try:
            self.public.verify(body, message)
        except InvalidSignature:
            return None
        return moment


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """A private key under a name: signs notes (type 0x01) or cosigns checkpoints (type 0x04)."""

    name: str
    kind: int
    private: Ed25519PrivateKey

    def __post_init__(self) -> None:
        check_name(self.name)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.kind, self.private.public_key())

    def line(self, text: bytes, moment: int = 0) -> str:
        """The signature line over ``text``; a cosignature is dated ``moment`` (POSIX seconds)."""
        if self.kind == ED25519:
            signature = self.private.sign(text)
        else:
            if not 0 <= moment < 1 << 63:
                raise ValueError("a cosignature's time is a POSIX timestamp below 2^63")
            stamp = moment.to_bytes(8, "big")
            signature = stamp + self.private.sign(_COSIGNATURE_HEADER.format(moment).encode("ascii") + text)
        encoded = base64.b64encode(self.verifier.id + signature).decode("ascii")
        return f"{_DASH}{self.name} {encoded}\n"

    @classmethod
    def parse(cls, skey: str) -> "NoteSigner":
        """A private key in the reference implementation's form: ``PRIVATE+KEY+<name>+<hex ID>+<base64>``."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signer key is PRIVATE+KEY+<name>+<hex key ID>+<base64 key>")
        kind, seed = _key_material(parts[4])
        signer = cls(check_name(parts[2]), kind, Ed25519PrivateKey.from_private_bytes(seed))
        _check_id(parts[3], signer.name, kind, signer.verifier.public.public_bytes_raw())
        return signer


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    id: bytes
    signature: bytes  # after the key ID

    def line(self) -> str:
        return f"{_DASH}{self.name} {base64.b64encode(self.id + self.signature).decode('ascii')}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A signed note as read: its text (with the final newline) and its signature lines, none yet trusted."""

    text: bytes
    signatures: tuple[Signature, ...]

    @classmethod
    def parse(cls, data: bytes) -> "Note":
        if len(data) > MAX_NOTE_BYTES:
            raise NoteError(f"longer than {MAX_NOTE_BYTES} bytes")
        try:
            decoded = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("not UTF-8") from exc
        if any(ord(c) < 0x20 and c != "\n" for c in decoded):
            raise NoteError("holds a control character other than newline")
        split = decoded.rfind("\n\n")
        if split < 0 or not decoded.endswith("\n"):
            raise NoteError("no blank line before the signatures, or no final newline")
        text, lines = decoded[: split + 1], decoded[split + 2 :].split("\n")[:-1]
        if not lines or len(lines) > MAX_SIGNATURES:
            raise NoteError(f"a note has 1 to {MAX_SIGNATURES} signature lines")
        return cls(text.encode("utf-8"), tuple(_signature(line) for line in lines))

    def encoded(self) -> bytes:
        return self.text + b"\n" + "".join(s.line() for s in self.signatures).encode("utf-8")

    def with_line(self, line: str) -> "Note":
        """This note with one more signature line (a cosignature added to a checkpoint)."""
        return Note(self.text, (*self.signatures, _signature(line.rstrip("\n"))))

    def verified(self, verifiers: Iterable[Verifier]) -> dict[str, int]:
        """Who of ``verifiers`` signed the text, with each signature's time (0 for a plain signature).

        A line of an unknown key (name or key ID not both known) is passed by; a line of a known
        key that does not verify makes the whole note refused (``NoteError``), as the spec advises.
        """
        signed: dict[str, int] = {}
        for verifier, moment in self.signers(verifiers):
            signed[verifier.name] = max(moment, signed.get(verifier.name, 0))
        return signed

    def signers(self, verifiers: Iterable[Verifier]) -> list[tuple[Verifier, int]]:
        """The keys of ``verifiers`` whose signature is on the note and verifies, each with its time."""
        known = {(v.name, v.id): v for v in verifiers}
        signed: list[tuple[Verifier, int]] = []
        for signature in self.signatures:
            verifier = known.get((signature.name, signature.id))
            if verifier is None:
                continue
            moment = verifier.check(self.text, signature.signature)
            if moment is None:
                raise NoteError(f"the signature of {signature.name} does not verify")
            signed.append((verifier, moment))
        return signed


def _signature(line: str) -> Signature:
    if not line.startswith(_DASH):
        raise NoteError("a signature line starts with an em dash and a space")
    name, space, encoded = line[len(_DASH) :].partition(" ")
    check_name(name)
    if not space:
        raise NoteError("a signature line is: em dash, key name, base64 signature")
    data = _b64decode(encoded)
    if len(data) < 5:
        raise NoteError("a signature is a key ID and at least one byte")
    return Signature(name, data[:4], data[4:])


def sign_note(text: bytes, signer: NoteSigner, moment: int = 0) -> bytes:
    """``text`` as a note signed by ``signer``."""
    _check_text(text)
    return text + b"\n" + signer.line(text, moment).encode("utf-8")


def _check_text(text: bytes) -> None:
    decoded = text.decode("utf-8")
    if not decoded.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in decoded):
        raise NoteError("a note's text is UTF-8 lines without control characters, ending in a newline")
