"""Partners' public keys as working agreements list them: the algorithms allowed, and loading a PEM.

The lowest level that needs it: agreements load their keys here, and the
gateway's JWS adapter (gateway/signing.py) verifies with them.
"""

from typing import Literal

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

Algorithm = Literal["EdDSA", "ES256", "PS256"]
ALGORITHMS: tuple[Algorithm, ...] = ("EdDSA", "ES256", "PS256")
PublicKey = OKPKey | ECKey | RSAKey

_KEY_CLASSES: dict[str, type[PublicKey]] = {"EdDSA": OKPKey, "ES256": ECKey, "PS256": RSAKey}


def key_class(alg: str) -> type[PublicKey]:
    return _KEY_CLASSES[alg]


def import_public_key(pem: str, alg: str, kid: str) -> PublicKey:
    """A partner's public key from PEM; raises ValueError when it does not fit ``alg``."""
    if alg not in ALGORITHMS:
        raise ValueError(f"alg must be one of {', '.join(ALGORITHMS)}")
    try:
        key = key_class(alg).import_key(pem, parameters={"kid": kid})
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"not a {alg} public key in PEM form") from exc
    if key.is_private:
        raise ValueError("a private key was given where a public key belongs")
    if alg == "EdDSA" and key.curve_name != "Ed25519":  # type: ignore[union-attr]
        raise ValueError("EdDSA keys must be Ed25519")
    if alg == "ES256" and key.curve_name != "P-256":  # type: ignore[union-attr]
        raise ValueError("ES256 keys must be on curve P-256")
    return key


def public_key_der(pem: str) -> bytes:
    """A PEM public key as DER SubjectPublicKeyInfo: one spelling of one key (line breaks, headers aside)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

    return load_pem_public_key(pem.encode("ascii")).public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
