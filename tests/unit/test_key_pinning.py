"""The gateway's keys as a partner gets them: a JWK set from anywhere, trusted only when every key is pinned."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import ConfigError
from gateway.keyset import GatewayKey, KeySet
from gateway.signing import Signer

GATEWAY = Signer.generate("gw-1")
NEXT = Signer.generate("gw-2")
SET = KeySet.of(GATEWAY, NEXT)


def test_thumbprints_are_rfc_7638_and_every_key_must_be_pinned() -> None:
    # RFC 7638: SHA-256 over the required members in lexical order, base64url without padding.
    import base64
    import hashlib

    jwk = GatewayKey(GATEWAY.kid, GATEWAY.key).as_jwk()
    members = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":"))
    expected = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()
    assert GatewayKey(GATEWAY.kid, GATEWAY.key).thumbprint == expected
    both = [key.thumbprint for key in SET]
    assert SET.unpinned(both) == []
    # One genuine key pinned does not vouch for a key planted beside it.
    assert [key.kid for key in SET.unpinned(both[:1])] == ["gw-2"]
    # A kid is the set's own word: pinning is by the key itself, so a planted key with the genuine kid is refused.
    planted = KeySet([GatewayKey("gw-1", Signer.generate("x").key)])
    assert [key.kid for key in planted.unpinned(both)] == ["gw-1"]


def test_a_set_read_back_is_the_set_written() -> None:
    again = KeySet.parse(json.dumps(SET.as_jwks()).encode(), "test")
    assert [(k.kid, k.thumbprint) for k in again] == [(k.kid, k.thumbprint) for k in SET]


def test_a_private_key_is_refused_in_our_words() -> None:
    entry = {**GatewayKey(GATEWAY.kid, GATEWAY.key).as_jwk(), "d": "c2VjcmV0"}
    with pytest.raises(ConfigError) as refused:
        KeySet.parse(json.dumps({"keys": [entry]}).encode(), "fetched")
    assert str(refused.value) == "fetched: keys[0]: a private key: publish only public keys"


_CANARY = "Bouwbedrijf-De-Vries"

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from([_CANARY, "OKP", "Ed25519", "x", "kid"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["kty", "crv", "x", "kid", "d", "not_before", "not_after", _CANARY]), inner, max_size=5
        )
    ),
    max_leaves=12,
)


@given(
    st.one_of(
        st.binary(max_size=200),
        _json_values.map(lambda v: json.dumps({"keys": v}).encode()),
        _json_values.map(lambda v: json.dumps({"keys": [v]}).encode()),
        _json_values.map(lambda v: json.dumps(v).encode()),
    )
)
def test_any_document_is_a_key_set_or_one_line_that_quotes_nothing_of_it(content: bytes) -> None:
    try:
        keys = KeySet.parse(content, "https://gkt.example/.well-known/jwks.json")
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("https://gkt.example/.well-known/jwks.json: ")
        assert "\n" not in message
        assert len(message) < 200
        assert _CANARY not in message
    else:
        assert len(keys) >= 1
        assert all(key.kid for key in keys)


def test_deep_nesting_is_one_line() -> None:
    with pytest.raises(ConfigError) as refused:
        KeySet.parse(b"[" * 100_000 + b"]" * 100_000, "f")
    assert str(refused.value) == "f: not JSON, so not a JWK set"


def test_one_kid_for_two_keys_is_refused() -> None:
    twice = {"keys": [GatewayKey("gw-1", GATEWAY.key).as_jwk(), GatewayKey("gw-1", NEXT.key).as_jwk()]}
    with pytest.raises(ConfigError) as refused:
        KeySet.parse(json.dumps(twice).encode(), "fetched")
    assert str(refused.value) == "fetched: keys[1]: its kid is that of an earlier key"
