"""The hostile records of the hardening issue, each as found: decided with a code, outputs bounded, nothing leaked."""

import base64
import json
from typing import Any

import pytest

from contracts.jsonio import strict_loads
from gateway.audit.index import AuditIndex
from gateway.audit.replay import Replayer
from gateway.demo import samples as s
from gateway.inbound import SIGNATURE_HEADER, InboundRecord
from gateway.pipeline import Rules
from gateway.processor import BatchResult, Processor
from gateway.signing import Signer, sign_detached
from gateway.types import ChainId
from tests.helpers import NOW, check_outputs, inbound, nla, nla_event

NAME = "Jan de Vries"
BSN = "123456782"


def process(rules: Rules, *records: InboundRecord) -> BatchResult:
    index = AuditIndex()
    heads = {ChainId(f"gkt.in.{p}/0"): index.head(ChainId(f"gkt.in.{p}/0")) for p in ("nla", "kvk")}
    result = Processor(rules, Signer.generate("gw"), index, "urn:x").process(list(records), heads)
    check_outputs(result)
    return result


def one(rules: Rules, record: InboundRecord) -> tuple[str, list[tuple[str, str | None]], dict[str, Any]]:
    """Outcome, (code, path) pairs, and the audit record of one record."""
    result = process(rules, record)
    [decision] = result.decisions
    audit = strict_loads(result.audits[0].value)
    return decision.outcome.value, [(r.code.value, r.path) for r in decision.reasons], audit


def everything_written(result: BatchResult) -> bytes:
    return b"\n".join(
        b"".join([m.key or b"", m.value, *(k.encode() + (v or b"") for k, v in m.headers)])
        for m in [*result.outputs, *result.audits]
    )


def test_a_lone_surrogate_in_a_member_name_is_unreadable(rules: Rules) -> None:
    outcome, reasons, _ = one(rules, inbound(b'{"\\ud800": 1}', headers=()))
    assert (outcome, reasons) == ("rejected", [("EVENT_UNREADABLE", None)])


def escaped(value: Any) -> bytes:
    """JSON with every non-ASCII character escaped: how a lone surrogate gets onto the wire."""
    return json.dumps(value).encode("ascii")


def test_a_lone_surrogate_anywhere_in_a_signed_report_is_unreadable(rules: Rules) -> None:
    for value in (
        escaped({**s.event(s.nla_report(), time=NOW), "tracestate": "\ud800"}),
        escaped(s.event({**s.nla_report(), "\udc00x": {"nationaliteit": "NL"}}, time=NOW)),
        escaped(s.event(s.nla_report(opdrachtgever={"kvkNummer": "12345678", "naam": "\ud800"}), time=NOW)),
    ):
        assert one(rules, inbound(value))[:2] == ("rejected", [("EVENT_UNREADABLE", None)])


def test_a_kid_with_a_lone_surrogate_is_an_invalid_signature_and_no_kid_is_recorded(rules: Rules) -> None:
    head = base64.urlsafe_b64encode(escaped({"alg": "EdDSA", "kid": "\ud800"})).rstrip(b"=")
    outcome, reasons, audit = one(rules, inbound(nla(), headers=((SIGNATURE_HEADER, head + b"..AAAA"),)))
    assert (outcome, reasons) == ("rejected", [("SIGNATURE_INVALID", None)])
    assert audit["event"]["kid"] is None


def test_an_unknown_kid_is_recorded_masked(rules: Rules) -> None:
    value = nla()
    token = sign_detached(value, s.partner_key("nla-2025-01"), f"{NAME} {BSN}" * 100, "EdDSA")
    result = process(rules, inbound(value, headers=((SIGNATURE_HEADER, token.encode()),)))
    assert [r.code.value for r in result.decisions[0].reasons] == ["KEY_UNKNOWN"]
    kid = strict_loads(result.audits[0].value)["event"]["kid"]
    assert kid.startswith("xxx xx xxxxx 999999999")
    assert len(kid) <= 64
    assert NAME.encode() not in everything_written(result)
    assert BSN.encode() not in everything_written(result)


@pytest.mark.parametrize("members", [25_000, 5])
def test_many_unknown_attributes_give_bounded_outputs(rules: Rules, members: int) -> None:
    value = json.dumps({f"{i:x}": 1 for i in range(members)}, separators=(",", ":")).encode()
    result = process(rules, inbound(value, headers=()))
    reasons = result.decisions[0].reasons
    assert {r.code.value for r in reasons} == {"EVENT_INVALID"}
    if members > 20:
        assert len(reasons) == 21
        assert reasons[-1].detail.startswith(f"{members + 8 - 20} more problems of this stage are not listed")


def test_many_signed_extra_keys_and_prohibited_attributes_give_bounded_outputs(rules: Rules) -> None:
    extra = nla_event({**s.nla_report(), **{f"x{i}": 0 for i in range(20_000)}})
    prohibited = nla_event({**s.nla_report(), "lijst": [{"geslacht": "m"} for _ in range(14_000)]})
    result = process(rules, inbound(extra), inbound(prohibited, offset=1))
    assert [d.reasons[0].code.value for d in result.decisions] == ["CONTRACT_VIOLATION", "PROHIBITED_ATTRIBUTE"]
    assert [len(d.reasons) for d in result.decisions] == [21, 21]


# 253_402_300_799_999 is 9999-12-31T23:59:59.999Z: already the year 10000 in Amsterdam, so no Dutch date.
@pytest.mark.parametrize("millis", [10**15, -(10**15), -1, 2**63 - 1, -(2**63), 253_402_300_799_999])
def test_a_kafka_timestamp_outside_the_datable_range_is_unreadable(rules: Rules, millis: int) -> None:
    record = inbound(nla(), timestamp_ms=millis)
    outcome, reasons, audit = one(rules, record)
    assert (outcome, reasons) == ("rejected", [("EVENT_UNREADABLE", None)])
    assert audit["inbound"]["timestamp"] is None


def test_a_null_signature_header_is_signature_missing_and_replays(rules: Rules) -> None:
    record = inbound(nla(), headers=((SIGNATURE_HEADER, None),))
    result = process(rules, record)
    assert [(r.code.value, r.detail) for r in result.decisions[0].reasons] == [
        ("SIGNATURE_MISSING", "header gkt-signature has no value")
    ]
    audit = [strict_loads(a.value) for a in result.audits]
    replayed = Replayer(rules, audit, lambda _moment: rules.reference).run({record.position: record})
    assert (replayed.identical, replayed.differences) == (1, [])


def test_member_names_are_masked_in_details_paths_and_dead_letters(rules: Rules) -> None:
    unsigned = json.dumps({"specversion": "1.0", NAME: 1, "a/b~c": 2}).encode()
    periode = {"van": "2024-09-01", "tot": "2025-03-10", f"{BSN}L01": "x"}
    signed = nla_event(s.nla_report(periode=periode))
    result = process(rules, inbound(unsigned, headers=()), inbound(signed, offset=1))
    paths = {r.path for d in result.decisions for r in d.reasons}
    assert {"/xxx xx xxxxx", "/x~1x~0x", "/data/periode/999999999x99"} <= paths
    written = everything_written(result)
    assert NAME.encode() not in written
    assert BSN.encode() not in written


def test_signatures_must_be_strict_base64url(rules: Rules) -> None:
    value = nla()
    token = s.sign(value, "nla-2025-01").decode()
    protected, _, signature = token.split(".")
    last = signature[-1]
    # Ed25519 signatures are 64 bytes: the last base64url character carries 4 unused bits.
    loose = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sloppy = loose[loose.index(last) | 1] if loose.index(last) % 2 == 0 else loose[loose.index(last) - 1]
    variants = [
        f"{protected}..{signature.replace('-', '+').replace('_', '/')}"
        if "-" in signature or "_" in signature
        else None,
        f"{protected}..{signature[:-1]}{sloppy}",
    ]
    for variant in filter(None, variants):
        outcome, reasons, _ = one(rules, inbound(value, headers=((SIGNATURE_HEADER, variant.encode()),)))
        assert (outcome, reasons) == ("rejected", [("SIGNATURE_INVALID", None)])
    assert one(rules, inbound(value))[0] == "routed"


@pytest.mark.parametrize("time", ["2025-06-02t09:59:00z", "2025-06-02T09:59:00.123456789Z", "2016-12-31T23:59:60Z"])
def test_rfc3339_allows_lower_case_long_fractions_and_a_leap_second(rules: Rules, time: str) -> None:
    reasons = one(rules, inbound(nla_event(s.nla_report(), time=time)))[1]
    assert ("EVENT_INVALID", "/time") not in reasons


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331"),
        ("traceparent", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ("traceparent", "00-00000000000000000000000000000000-b7ad6b7169203331-01"),
        ("tracestate", "x" * 600),
        ("tracestate", f"name={NAME}"[:-1] + ",=x"),
        ("tracestate", ",".join(f"k{i}=v" for i in range(33))),
    ],
)
def test_trace_context_must_follow_w3c(rules: Rules, name: str, value: str) -> None:
    assert one(rules, inbound(nla_event(s.nla_report(), **{name: value})))[1] == [("EVENT_INVALID", f"/{name}")]


def test_valid_trace_context_is_copied(rules: Rules) -> None:
    traced = nla_event(
        s.nla_report(client=s.UNKNOWN_CLIENT),
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        tracestate="congo=t61rcWkgMzE,rojo@x=00f067aa0ba902b7",
    )
    result = process(rules, inbound(traced))
    quarantined = strict_loads(result.outputs[0].value)
    assert quarantined["event"]["tracestate"] == "congo=t61rcWkgMzE,rojo@x=00f067aa0ba902b7"


def test_the_dead_letter_keeps_a_bounded_masked_start(rules: Rules) -> None:
    value = b"{" + f'"{NAME}":"{BSN}",'.encode() * 10_000
    result = process(rules, inbound(value[:262_000], headers=()))
    [dead] = [m for m in result.outputs if m.topic == "gkt.deadletter"]
    assert len(dead.value) == 49_152
    assert dict(dead.headers)["gkt-value-length"] == b"262000"
    assert dead.value.startswith(b'{"xxx xx xxxxx":"999999999",')


def test_received_at_bounds_are_inclusive(rules: Rules) -> None:
    record = inbound(nla(at=NOW), headers=(), timestamp_ms=0)
    assert record.dated
    assert record.received_text == "1970-01-01T00:00:00.000Z"


def test_long_type_and_dataschema_are_refused_before_they_reach_the_audit_record(rules: Rules) -> None:
    long_type = "nl." + "a" * 120_000
    value = nla_event(s.nla_report(), type=long_type, dataschema=f"urn:gkt:contract:{long_type}:1.0")
    outcome, reasons, audit = one(rules, inbound(value))
    assert (outcome, reasons) == ("rejected", [("EVENT_INVALID", "/type")])
    assert audit["event"]["type"] is None
    big_version = nla_event(s.nla_report(), dataschema=f"urn:gkt:contract:{s.NLA_TYPE}:1{'0' * 100_000}.0")
    assert one(rules, inbound(big_version))[1] == [("EVENT_INVALID", "/dataschema")]


def test_a_held_event_that_grows_on_re_encoding_is_not_copied(rules: Rules, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a record the gateway failed to decide reaches the quarantine unvalidated.

    ``1e15`` re-encodes as ``1000000000000000.0``, 4.5 times larger.
    """

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("gateway.pipeline._run_stages", broken)
    value = nla_event({"getallen": "@"}).replace(b'"@"', b"[" + b",".join([b"1e15"] * 50_000) + b"]")
    assert len(value) < 262_144
    result = process(rules, inbound(value))
    quarantined = strict_loads(result.outputs[0].value)
    assert quarantined["event"] is None
    assert quarantined["reasons"][0]["code"] == "REVIEW_REQUIRED"
