"""The gateway's public keys, current and retired, with the time each was in use.

Rotating the gateway's key must never make old records look forged: the
retired public key stays in the key set (setting ``gateway_keys``, a JWK set
file) with the moment it stopped signing, and verifiers check each record's
signature with the key that was valid when the record was made.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from contracts.keys import PublicKey
from gateway.errors import ConfigError
from gateway.signing import SignatureFormatError, Signer, read_protected_header, verify_detached


@dataclass(frozen=True, slots=True)
class GatewayKey:
    kid: str
    key: PublicKey
    not_before: datetime | None = None
    not_after: datetime | None = None

    def valid_at(self, moment: datetime) -> bool:
        return (self.not_before is None or self.not_before <= moment) and (
            self.not_after is None or moment < self.not_after
        )

    @property
    def thumbprint(self) -> str:
        """RFC 7638 SHA-256 thumbprint: what a partner pins, read out over another channel than the key itself."""
        return self.key.thumbprint()

    def as_jwk(self) -> dict[str, Any]:
        jwk = self.key.as_dict(private=False)
        jwk.update({"kid": self.kid, "alg": "EdDSA", "use": "sig"})
        if self.not_before is not None:
            jwk["not_before"] = self.not_before.isoformat()
        if self.not_after is not None:
            jwk["not_after"] = self.not_after.isoformat()
        return jwk


class KeySet:
    """Gateway public keys by kid."""

    def __init__(self, keys: list[GatewayKey]) -> None:
        self._keys = {k.kid: k for k in keys}

    def get(self, kid: str) -> GatewayKey | None:
        return self._keys.get(kid)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[GatewayKey]:
        return iter(self._keys.values())

    def unpinned(self, pins: Iterable[str]) -> list[GatewayKey]:
        """The keys whose thumbprint is not among ``pins``: a fetched key set is trusted only when this is empty.

        Every key must be pinned, not one: a key set with one genuine key and
        one planted beside it would otherwise verify anything the planted key signs.
        """
        pinned = set(pins)
        return [key for key in self._keys.values() if key.thumbprint not in pinned]

    def as_jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_jwk() for k in self._keys.values()]}

    def verifies(self, token: bytes | None, payload: bytes, moment: datetime) -> bool:
        """Whether ``token`` is the gateway's detached JWS over ``payload``, by one of these keys valid at ``moment``.

        What a partner checks of its receipt and a consumer of its signal: the
        gateway wrote these exact bytes.
        """
        if token is None:
            return False
        try:
            text = token.decode("ascii")
            key = self.get(read_protected_header(text).kid)
        except (UnicodeDecodeError, SignatureFormatError):
            return False
        return key is not None and key.valid_at(moment) and verify_detached(text, payload, key.key, "EdDSA")

    def with_signer(self, signer: Signer) -> "KeySet":
        """Add the current signing key, unless the file already lists it (with its validity)."""
        if signer.kid in self._keys:
            return self
        return KeySet([*self._keys.values(), GatewayKey(signer.kid, signer.key)])

    @classmethod
    def of(cls, *signers: Signer) -> "KeySet":
        return cls([GatewayKey(s.kid, s.key) for s in signers])

    @classmethod
    def load(cls, path: Path) -> "KeySet":
        """A JWK set file; each key may carry ``not_before`` and ``not_after`` (RFC 3339)."""
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read gateway keys ({exc.strerror})") from exc
        return cls.parse(content, str(path))

    @classmethod
    def parse(cls, content: bytes, where: str) -> "KeySet":
        """A JWK set document from ``where`` (a file, a URL); what is wrong with it is said in our words.

        The document may come from anywhere (``gkt keys fetch``): nothing of it is quoted back.
        """
        try:
            document = json.loads(content)
        except (ValueError, RecursionError):
            raise ConfigError(f"{where}: not JSON, so not a JWK set") from None
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f'{where}: not a JWK set: no list of keys under "keys"')
        keys: list[GatewayKey] = []
        for index, entry in enumerate(entries):
            try:
                key = _key(entry)
            except (ValueError, TypeError, AttributeError, JoseError) as exc:
                why = str(exc) if isinstance(exc, _JwkError) else "not an Ed25519 public key"
                raise ConfigError(f"{where}: keys[{index}]: {why}") from None
            if any(known.kid == key.kid for known in keys):
                # One kid, two keys: which verifies a record would depend on the order of the file.
                raise ConfigError(f"{where}: keys[{index}]: its kid is that of an earlier key")
            keys.append(key)
        return cls(keys)


class _JwkError(ValueError):
    """What is wrong with one JWK, in our words (never the JWK's own values)."""


def _key(entry: dict[str, Any]) -> GatewayKey:
    if not isinstance(entry, dict):
        raise _JwkError("not a JSON object")
    if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
        raise _JwkError("only Ed25519 public keys (kty OKP, crv Ed25519)")
    if "d" in entry:
        raise _JwkError("a private key: publish only public keys")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not 1 <= len(kid) <= 128:
        raise _JwkError("kid: 1 to 128 characters")
    key = OKPKey.import_key({k: v for k, v in entry.items() if k in ("kty", "crv", "x")})

    def moment(name: str) -> datetime | None:
        value = entry.get(name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise _JwkError(f"{name}: not an RFC 3339 moment") from None
        if parsed.tzinfo is None:
            raise _JwkError(f"{name}: needs an offset")
        return parsed

    return GatewayKey(kid, key, moment("not_before"), moment("not_after"))
