"""The gateway's public keys, current and retired, with the time each was in use.

Rotating the gateway's key must never make old records look forged: the
retired public key stays in the key set (setting ``gateway_keys``, a JWK set
file) with the moment it stopped signing, and verifiers check each record's
signature with the key that was valid when the record was made.
"""

import json
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
            document = json.loads(path.read_text())
            return cls([_key(entry) for entry in document["keys"]])
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read gateway keys ({exc.strerror})") from exc
        except (ValueError, KeyError, TypeError, JoseError) as exc:
            raise ConfigError(f"{path}: not a JWK set of Ed25519 public keys ({exc})") from exc


def _key(entry: dict[str, Any]) -> GatewayKey:
    public = {k: v for k, v in entry.items() if k in ("kty", "crv", "x")}
    key = OKPKey.import_key(public)
    if key.is_private or entry.get("crv") != "Ed25519":
        raise ValueError("only Ed25519 public keys")

    def moment(name: str) -> datetime | None:
        value = entry.get(name)
        if value is None:
            return None
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"{name} needs an offset")
        return parsed

    return GatewayKey(str(entry["kid"]), key, moment("not_before"), moment("not_after"))
