"""Detached JWS (RFC 7515 appendix F) over exact bytes: the one adapter to joserfc.

Partners sign inbound records this way (header ``gkt-signature``); the gateway
signs what it writes the same way. Only ``EdDSA``, ``ES256`` and ``PS256`` are
accepted, the protected header is exactly ``{"alg", "kid"}``, and no key
material is ever taken from a message.
"""

import base64
import binascii
import functools
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import OKPKey

from contracts.jsonio import strict_loads
from contracts.keys import Algorithm, PublicKey, key_class, public_key_der
from gateway.errors import ConfigError, UsageError
from gateway.types import KeyId

# The spec fixes the JWS alg name "EdDSA"; RFC 9864 prefers "Ed25519" and joserfc
# warns on every use. The algorithm is the same, so the warning says nothing here.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)


class SignatureFormatError(ValueError):
    """The header value is not a detached compact JWS with exactly alg and kid."""


@dataclass(frozen=True, slots=True)
class ProtectedHeader:
    alg: str
    kid: KeyId


_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# Far above any JWS of EdDSA, ES256 or PS256 (RSA-4096: ~700 characters of signature).
MAX_TOKEN_LENGTH = 8_192


def _b64url_decode(part: str) -> bytes:
    """RFC 7515 base64url, exactly: URL alphabet, no padding, no stray trailing bits."""
    if "=" in part:
        raise SignatureFormatError("base64url must not be padded")
    if not _BASE64URL.fullmatch(part) or len(part) % 4 == 1:
        raise SignatureFormatError("not base64url")
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SignatureFormatError("not base64url") from exc
    if _b64(data) != part:
        raise SignatureFormatError("not canonical base64url (unused bits set)")
    return data


def read_protected_header(token: str) -> ProtectedHeader:
    """Parse ``<protected>..<signature>`` far enough to choose a key."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise SignatureFormatError(f"longer than {MAX_TOKEN_LENGTH} characters")
    parts = token.split(".")
    if len(parts) != 3 or parts[1] != "" or not parts[0] or not parts[2]:
        raise SignatureFormatError("expected <protected>..<signature> (detached payload)")
    return _protected_header(parts[0])


@functools.lru_cache(maxsize=1024)
def _protected_header(part: str) -> ProtectedHeader:
    """The decoded protected header; a partner's is the same on every record, so it is read once.

    Only readable headers are remembered (a raise is not cached), at most 1,024 of them.
    """
    protected = _b64url_decode(part)
    try:
        header: Any = strict_loads(protected)
    except ValueError as exc:
        raise SignatureFormatError("protected header is not I-JSON") from exc
    if not isinstance(header, dict) or set(header) != {"alg", "kid"}:
        raise SignatureFormatError("protected header must hold exactly alg and kid")
    alg, kid = header["alg"], header["kid"]
    if not isinstance(alg, str) or not isinstance(kid, str) or not kid:
        raise SignatureFormatError("alg and kid must be non-empty strings")
    return ProtectedHeader(alg=alg, kid=KeyId(kid))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _protected(alg: str, kid: str) -> str:
    return _b64(json.dumps({"alg": alg, "kid": kid}, separators=(",", ":")).encode("utf-8"))


# EdDSA, the gateway's own algorithm and the one it uses three times per record,
# goes straight to `cryptography` (the primitive joserfc itself calls): joserfc's
# per-call overhead cost ~100 µs a signature (docs/performance.md). The JWS is the
# same RFC 7515 compact form; tests/unit/test_signing.py cross-checks both ways.
# ES256 and PS256 go through joserfc.


def verify_detached(
    token: str, payload: bytes, key: PublicKey, alg: str, header: ProtectedHeader | None = None
) -> bool:
    """True when ``token`` is a valid ``alg`` signature by ``key`` over ``payload``.

    ``header``: the token's protected header, when the caller already read it (authentication
    does, to choose the key): it is not parsed a second time.
    """
    if alg == "EdDSA" and isinstance(key, OKPKey):
        return _verify_eddsa(token, payload, key, header)
    try:
        jws.deserialize_compact(token, key, algorithms=[alg], payload=payload)
    except (JoseError, ValueError):
        return False
    return True


def _verify_eddsa(token: str, payload: bytes, key: OKPKey, header: ProtectedHeader | None) -> bool:
    try:
        if (header or read_protected_header(token)).alg != "EdDSA":
            return False
    except SignatureFormatError:
        return False
    public = key.public_key
    return isinstance(public, Ed25519PublicKey) and verify_eddsa_token(token, payload, public)


def verify_eddsa_token(token: str, payload: bytes, public: Ed25519PublicKey) -> bool:
    """The Ed25519 check of a detached JWS whose header says EdDSA: also what gateway.crypto_helper runs."""
    try:
        protected, _, signature = token.split(".")
        public.verify(_b64url_decode(signature), signing_input(protected, payload))
    except (SignatureFormatError, InvalidSignature, ValueError):
        return False
    return True


def signing_input(protected: str, payload: bytes) -> bytes:
    """RFC 7515: what a JWS signature is over, ``<protected>.<payload, base64url>``."""
    return f"{protected}.{_b64(payload)}".encode("ascii")


def detached(protected: str, signature: bytes) -> str:
    """The compact detached JWS, ``<protected>..<signature>``."""
    return f"{protected}..{_b64(signature)}"


def sign_detached(payload: bytes, key: PublicKey, kid: str, alg: str) -> str:
    """``<protected>..<signature>`` over ``payload``."""
    private = key.private_key if alg == "EdDSA" and isinstance(key, OKPKey) else None
    if isinstance(private, Ed25519PrivateKey):
        protected = _protected(alg, kid)
        return detached(protected, private.sign(signing_input(protected, payload)))
    full = jws.serialize_compact({"alg": alg, "kid": kid}, payload, key, algorithms=[alg])
    head, _, tail = full.split(".")
    return f"{head}..{tail}"


@dataclass(frozen=True)
class Signer:
    """A private key with its kid and alg: signs what the gateway (or a partner) writes."""

    key: OKPKey
    kid: KeyId
    alg: Algorithm = "EdDSA"

    @classmethod
    def generate(cls, kid: str) -> "Signer":
        return cls(OKPKey.generate_key("Ed25519", parameters={"kid": kid}), KeyId(kid))

    @classmethod
    def from_pem_file(cls, path: Path, kid: str) -> "Signer":
        try:
            key = OKPKey.import_key(path.read_bytes(), parameters={"kid": kid})
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read signing key ({exc.strerror})") from exc
        except (JoseError, ValueError, TypeError) as exc:
            raise ConfigError(f"{path}: not an Ed25519 private key in PEM form") from exc
        if not key.is_private or key.curve_name != "Ed25519":
            raise ConfigError(f"{path}: not an Ed25519 private key in PEM form")
        return cls(key, KeyId(kid))

    def sign(self, payload: bytes) -> str:
        return detached(self.protected, self.private.sign(signing_input(self.protected, payload)))

    @functools.cached_property
    def protected(self) -> str:
        """The JWS protected header, base64url: the same on every signature of this key."""
        return _protected(self.alg, self.kid)

    @property
    def private(self) -> Ed25519PrivateKey:
        private = self.key.private_key
        assert isinstance(private, Ed25519PrivateKey), "a Signer holds an Ed25519 private key"
        return private

    def private_pem(self) -> bytes:
        return bytes(self.key.as_pem(private=True))

    def public_pem(self) -> bytes:
        return bytes(self.key.as_pem(private=False))

    @property
    def public_der(self) -> bytes:
        """The public key as DER SubjectPublicKeyInfo: to compare with keys listed elsewhere."""
        return public_key_der(self.public_pem().decode("ascii"))


def load_private_key(path: Path, kid: str) -> tuple[PublicKey, Algorithm]:
    """A partner's or reviewer's private key from PEM (``--key``), with the alg its type implies (Ed25519, P-256,
    RSA); a file that is not one is a usage error (exit 2)."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--key {path}: cannot read it ({exc.strerror})") from exc
    algs: tuple[Algorithm, ...] = ("EdDSA", "ES256", "PS256")
    for alg in algs:
        try:
            key = key_class(alg).import_key(content, parameters={"kid": kid})
        except (JoseError, ValueError, TypeError):
            continue
        if key.is_private:
            return key, alg
    raise UsageError(f"--key {path}: not an Ed25519, P-256 or RSA private key in PEM form")
