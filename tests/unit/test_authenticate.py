"""Stage 2, authenticate: signature, key validity, sender, freshness (G3)."""

from datetime import UTC, datetime, timedelta

import pytest
from joserfc.jwk import ECKey, OKPKey, RSAKey

from contracts.agreement import Agreement
from gateway.demo import samples as s
from gateway.inbound import SIGNATURE_HEADER
from gateway.pipeline import Rules
from gateway.signing import sign_detached
from gateway.stages.authenticate import authenticate
from gateway.stages.read import read
from gateway.types import PartnerId
from tests.helpers import NOW, inbound, nla


def check(rules: Rules, record, partner: str = "nla") -> list[str]:  # type: ignore[no-untyped-def]
    event = read(record, allow_test_oins=True).event
    assert event is not None
    agreement = rules.agreements.governing(PartnerId(partner), record.received_at)
    return [r.code.value for r in authenticate(record, event, agreement).reasons]


def test_a_signed_report_authenticates(rules: Rules) -> None:
    assert check(rules, inbound(nla())) == []


def test_es256_key_of_kvk(rules: Rules) -> None:
    value = s.encode(s.event(s.kvk_report(), time=NOW, source=s.KVK_SOURCE, report_type=s.KVK_TYPE))
    assert check(rules, inbound(value, partner="kvk", kid="kvk-2025-01"), "kvk") == []


def test_missing_signature(rules: Rules) -> None:
    assert check(rules, inbound(nla(), kid=None)) == ["SIGNATURE_MISSING"]


@pytest.mark.parametrize(
    "token",
    [
        b"not a jws",
        b"a.b.c",
        b"..",
        b"eyJhbGciOiJFZERTQSJ9..c2ln",
        b"\xff\xfe",
        b"eyJhbGciOiJFZERTQSIsImtpZCI6Im5sYS0yMDI1LTAxIiwiZXh0cmEiOjF9..c2ln",  # an extra header member
    ],
)
def test_malformed_signature(rules: Rules, token: bytes) -> None:
    assert check(rules, inbound(nla(), headers=((SIGNATURE_HEADER, token),))) == ["SIGNATURE_INVALID"]


def test_two_signature_headers(rules: Rules) -> None:
    value = nla()
    signature = s.sign(value, "nla-2025-01")
    headers = ((SIGNATURE_HEADER, signature), (SIGNATURE_HEADER, signature))
    assert check(rules, inbound(value, headers=headers)) == ["SIGNATURE_INVALID"]


def test_signature_over_other_bytes(rules: Rules) -> None:
    value = nla()
    headers = ((SIGNATURE_HEADER, s.sign(value + b" ", "nla-2025-01")),)
    assert check(rules, inbound(value, headers=headers)) == ["SIGNATURE_INVALID"]


def test_alg_must_be_the_agreed_one(rules: Rules) -> None:
    value = nla()
    rsa = RSAKey.generate_key(2048)
    token = sign_detached(value, rsa, "nla-2025-01", "PS256").encode()
    assert check(rules, inbound(value, headers=((SIGNATURE_HEADER, token),))) == ["SIGNATURE_INVALID"]


def test_unknown_kid(rules: Rules) -> None:
    value = nla()
    token = sign_detached(value, OKPKey.generate_key("Ed25519"), "nla-1999-01", "EdDSA").encode()
    assert check(rules, inbound(value, headers=((SIGNATURE_HEADER, token),))) == ["KEY_UNKNOWN"]


def test_a_key_of_another_partner_is_unknown(rules: Rules) -> None:
    value = nla()
    assert check(rules, inbound(value, kid="kvk-2025-01")) == ["KEY_UNKNOWN"]


def test_retired_key(rules: Rules) -> None:
    assert check(rules, inbound(nla(), kid="nla-2024-01")) == ["KEY_NOT_VALID"]


def test_retired_key_was_valid_before(rules: Rules) -> None:
    at = datetime(2025, 1, 20, tzinfo=UTC)
    assert check(rules, inbound(nla(at), kid="nla-2024-01", at=at)) == []


def test_a_forged_key_with_a_known_kid_fails(rules: Rules) -> None:
    value = nla()
    token = sign_detached(value, OKPKey.generate_key("Ed25519"), "nla-2025-01", "EdDSA").encode()
    assert check(rules, inbound(value, headers=((SIGNATURE_HEADER, token),))) == ["SIGNATURE_INVALID"]


def test_sender_must_own_the_topic(rules: Rules) -> None:
    # NLA's own key, but the event claims to come from KVK.
    value = s.encode({**s.event(s.nla_report(), time=NOW), "source": s.KVK_SOURCE})
    assert check(rules, inbound(value)) == ["SENDER_MISMATCH"]


def test_report_on_another_partners_topic(rules: Rules) -> None:
    assert check(rules, inbound(nla(), partner="kvk"), "kvk") == ["KEY_UNKNOWN", "SENDER_MISMATCH"]


@pytest.mark.parametrize(
    ("delta", "stale"),
    [
        (timedelta(minutes=5), False),
        (timedelta(minutes=5, seconds=1), True),
        (-timedelta(days=30), False),
        (-timedelta(days=30, seconds=1), True),
    ],
)
def test_freshness(rules: Rules, delta: timedelta, stale: bool) -> None:
    assert check(rules, inbound(nla(NOW + delta))) == (["EVENT_STALE"] if stale else [])


def test_revoked_key() -> None:
    key = ECKey.generate_key("P-256")
    pem = key.as_pem(private=False).decode()
    agreement = Agreement.model_validate(
        {
            "partner": "xx",
            "name": "X",
            "oin": "00000099111222333000",
            "version": "1",
            "legal_basis": "b",
            "purpose": "p",
            "in_force": {"from": datetime(2025, 1, 1, tzinfo=UTC)},
            "max_event_age_days": 30,
            "keys": [
                {
                    "kid": "k",
                    "alg": "ES256",
                    "public_key": pem,
                    "not_before": datetime(2025, 1, 1, tzinfo=UTC),
                    "revoked_at": NOW,
                }
            ],
            "report_types": [
                {"type": "t.t", "versions": ["1.0"], "evidence": {"oordeel": "vermoeden", "min_indicatoren": 1}}
            ],
        }
    )
    record_key = agreement.key("k")  # type: ignore[arg-type]
    assert record_key is not None
    assert record_key.valid_at(NOW - timedelta(seconds=1))
    assert not record_key.valid_at(NOW)


def test_a_partner_without_any_agreement_is_told_so(rules: Rules) -> None:
    record = inbound(nla(), partner="uwv")
    event = read(record, allow_test_oins=True).event
    assert event is not None
    result = authenticate(record, event, None, "uwv")
    assert [(r.code.value, r.detail) for r in result.reasons] == [
        ("KEY_UNKNOWN", "there is no working agreement for uwv, so no key of it")
    ]


def test_a_test_oin_refused_names_the_setting_that_allows_it() -> None:
    [reason] = read(inbound(nla()), allow_test_oins=False).reasons
    assert (reason.code.value, reason.path) == ("EVENT_INVALID", "/source")
    assert "--allow-test-oins (GKT_ALLOW_TEST_OINS)" in reason.detail
    malformed = nla().replace(b"00000099111222333000", b"12345")
    assert "test OIN" not in read(inbound(malformed), allow_test_oins=False).reasons[0].detail


def test_an_unknown_kid_is_named_by_its_shape_next_to_the_kids_the_agreement_lists(rules: Rules) -> None:
    value = nla()
    token = sign_detached(value, OKPKey.generate_key("Ed25519"), "Jansen-2025-01", "EdDSA").encode()
    record = inbound(value, headers=((SIGNATURE_HEADER, token),))
    event = read(record, allow_test_oins=True).event
    assert event is not None
    agreement = rules.agreements.governing(PartnerId("nla"), record.received_at)
    [reason] = authenticate(record, event, agreement).reasons
    assert reason.code.value == "KEY_UNKNOWN"
    assert "kid xxxxxx-9999-99" in reason.detail, "its shape, so the partner sees which kid it sent"
    assert "Jansen" not in reason.detail, "never the sender's own words"
    assert "nla-2025-01" in reason.detail, "the kids it may use"
