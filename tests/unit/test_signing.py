"""The gateway's JWS: the direct EdDSA path and joserfc agree both ways, for every alg."""

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

from gateway.signing import Signer, read_protected_header, sign_detached, verify_detached

PAYLOAD = b'{"id":"x","data":{"naam":"\\u00e9"}}'


def joserfc_detached(payload: bytes, key, kid: str, alg: str) -> str:  # type: ignore[no-untyped-def]
    protected, _, signature = jws.serialize_compact({"alg": alg, "kid": kid}, payload, key, algorithms=[alg]).split(".")
    return f"{protected}..{signature}"


def test_our_eddsa_signature_verifies_with_joserfc() -> None:
    signer = Signer.generate("gw-1")
    token = signer.sign(PAYLOAD)
    assert read_protected_header(token).kid == "gw-1"
    obj = jws.deserialize_compact(token, OKPKey.import_key(signer.public_pem()), algorithms=["EdDSA"], payload=PAYLOAD)
    assert obj.protected == {"alg": "EdDSA", "kid": "gw-1"}


def test_joserfc_eddsa_signature_verifies_with_ours() -> None:
    key = OKPKey.generate_key("Ed25519")
    token = joserfc_detached(PAYLOAD, key, "p-1", "EdDSA")
    public = OKPKey.import_key(key.as_pem(private=False))
    assert verify_detached(token, PAYLOAD, public, "EdDSA")
    assert not verify_detached(token, PAYLOAD + b" ", public, "EdDSA")
    assert not verify_detached(
        token, PAYLOAD, OKPKey.import_key(OKPKey.generate_key("Ed25519").as_pem(private=False)), "EdDSA"
    )


@pytest.mark.parametrize("token", ["", "a..b", "eyJhbGciOiJFZERTQSIsImtpZCI6ImsifQ..!!", "x.y.z"])
def test_garbage_never_verifies(token: str) -> None:
    public = OKPKey.import_key(OKPKey.generate_key("Ed25519").as_pem(private=False))
    assert not verify_detached(token, PAYLOAD, public, "EdDSA")


def test_a_header_naming_another_alg_fails_on_the_eddsa_path() -> None:
    key = OKPKey.generate_key("Ed25519")
    token = sign_detached(PAYLOAD, key, "k", "EdDSA")
    public = OKPKey.import_key(key.as_pem(private=False))
    forged_header = joserfc_detached(PAYLOAD, ECKey.generate_key("P-256"), "k", "ES256").split(".")[0]
    assert not verify_detached(forged_header + ".." + token.split(".")[2], PAYLOAD, public, "EdDSA")


@pytest.mark.parametrize(
    ("alg", "key"),
    [
        ("ES256", ECKey.generate_key("P-256")),
        ("PS256", RSAKey.generate_key(2048)),
        ("EdDSA", OKPKey.generate_key("Ed25519")),
    ],
)
def test_every_alg_round_trips(alg: str, key) -> None:  # type: ignore[no-untyped-def]
    token = sign_detached(PAYLOAD, key, "k", alg)
    public = type(key).import_key(key.as_pem(private=False))
    assert verify_detached(token, PAYLOAD, public, alg)
    assert not verify_detached(token, PAYLOAD[:-1], public, alg)


def test_a_key_set_verifies_what_the_gateway_wrote_and_nothing_else() -> None:
    from datetime import UTC, datetime, timedelta

    from gateway.keyset import GatewayKey, KeySet

    gateway, forger = Signer.generate("gw-1"), Signer.generate("gw-1")  # the forger claims the same kid
    now = datetime(2026, 3, 2, tzinfo=UTC)
    keys = KeySet([GatewayKey(gateway.kid, gateway.key, not_after=now + timedelta(days=1))])
    payload = b'{"outcome":"accepted"}'
    token = gateway.sign(payload).encode()
    assert keys.verifies(token, payload, now)
    assert not keys.verifies(token, payload + b" ", now)  # other bytes
    assert not keys.verifies(forger.sign(payload).encode(), payload, now)
    assert not keys.verifies(token, payload, now + timedelta(days=2))  # the key was retired by then
    assert not keys.verifies(None, payload, now)
    assert not keys.verifies("ä".encode(), payload, now)
