"""Stage 1, read: size, JSON and CloudEvents attributes."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.reasons import ReasonCode
from gateway.stages.read import MAX_DEPTH, MAX_EVENT_BYTES, read
from tests.helpers import NOW, inbound, nla


def codes(value: bytes | None, test_oins: bool = True) -> list[tuple[str, str | None]]:
    result = read(inbound(value, kid=None), allow_test_oins=test_oins)
    return [(r.code.value, r.path) for r in result.reasons]


def event(**changes: object) -> bytes:
    obj = json.loads(nla())
    for name, value in changes.items():
        if value is None:
            del obj[name]
        else:
            obj[name] = value
    return json.dumps(obj).encode()


def test_a_valid_event_is_read() -> None:
    result = read(inbound(nla()), allow_test_oins=True)
    assert result.reasons == []
    assert result.event is not None
    assert result.event.version == "1.0"
    assert result.event.oin == "00000099111222333000"


def test_size_limit_is_exact() -> None:
    padded = nla()[:-1] + b" " * (MAX_EVENT_BYTES - len(nla())) + b"}"
    assert len(padded) == MAX_EVENT_BYTES
    assert codes(padded) == []
    assert codes(padded[:-1] + b" }") == [("EVENT_TOO_LARGE", None)]


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"not json",
        b"\xff\xfe",
        b"[1,2]",
        b'"text"',
        b'{"a": NaN}',
        b'{"a": 1, "a": 2}',
        b'{"data": {"x": {"y": 1, "y": 2}}}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 100 + b"1" + b"}" * 100,
    ],
)
def test_unreadable(value: bytes | None) -> None:
    assert codes(value) == [("EVENT_UNREADABLE", None)]


def test_every_missing_and_unknown_attribute_is_named() -> None:
    got = codes(event(time=None, datacontenttype=None, nationaliteit="x", extra=1))
    assert sorted(got) == [
        ("EVENT_INVALID", "/datacontenttype"),
        ("EVENT_INVALID", "/nationaliteit"),  # a word of the spec: shown
        ("EVENT_INVALID", "/time"),
        ("EVENT_INVALID", "/xxxxx"),  # the sender's own name: masked (G7)
    ]


def test_a_cloudevents_attribute_is_named_as_it_is_and_said_to_be_one() -> None:
    """subject is the CloudEvents specification's word, not the sender's secret: shown, with why it is refused."""
    result = read(inbound(event(subject="x", Subjekt="y"), kid=None), allow_test_oins=True)
    named = {reason.path: reason.detail for reason in result.reasons}
    assert named["/subject"] == (
        "attribute subject is a CloudEvents attribute this profile does not take (docs/partners.md, the record)"
    )
    assert named["/xxxxxxx"] == "attribute xxxxxxx is not allowed", "a name of the sender's own: masked"


def test_tracing_attributes_are_allowed() -> None:
    assert codes(event(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate="a=b")) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("specversion", "0.3"),
        ("id", ""),
        ("id", "a" * 129),
        ("id", "spaces not allowed"),
        ("id", 12),
        ("source", "urn:nld:oin:00000099111222333001"),
        ("source", "urn:nld:oin:123"),
        ("source", "nla"),
        ("type", "NL.NLA.X"),
        ("type", "single"),
        ("dataschema", "urn:gkt:contract:nl.kvk.inschrijvingssignaal:1.0"),
        ("dataschema", "urn:gkt:contract:nl.nla.schijnzelfstandigheid:1"),
        ("time", "2025-06-02T10:00:00"),
        ("time", "2025-06-02 10:00:00Z"),
        ("time", "yesterday"),
        ("datacontenttype", "text/plain"),
    ],
)
def test_invalid_attribute(name: str, value: object) -> None:
    assert codes(event(**{name: value})) == [("EVENT_INVALID", f"/{name}")]


def test_test_oins_are_refused_unless_allowed() -> None:
    assert codes(nla(), test_oins=False) == [("EVENT_INVALID", "/source")]


def test_source_may_name_a_system() -> None:
    assert codes(event(source="urn:nld:oin:00000099111222333000:inspectie-app")) == []


def test_readable_id_and_source_are_kept_when_invalid() -> None:
    result = read(inbound(event(extra=1), kid=None), allow_test_oins=True)
    assert result.event is None
    assert result.id is not None
    assert result.source == "urn:nld:oin:00000099111222333000"
    assert result.reasons[0].code is ReasonCode.EVENT_INVALID


def test_time_with_offset_is_parsed() -> None:
    result = read(inbound(nla(NOW)), allow_test_oins=True)
    assert result.event is not None
    assert result.event.time == NOW


def test_nesting_deeper_than_64_levels_is_unreadable_and_64_is_not() -> None:
    def nested(levels: int) -> bytes:
        # The event is one level; data adds the rest.
        return b'{"specversion":"1.0","data":' + b"[" * (levels - 1) + b"1" + b"]" * (levels - 1) + b"}"

    deep = read(inbound(nested(MAX_DEPTH + 2), kid=None), allow_test_oins=True)
    assert [r.detail for r in deep.reasons] == [f"nested deeper than {MAX_DEPTH} levels"]
    shallow = read(inbound(nested(MAX_DEPTH), kid=None), allow_test_oins=True)
    assert all("nested" not in r.detail for r in shallow.reasons)
    brackets_in_text = b'{"specversion":"1.0","data":"' + b"[" * 500 + b'"}'
    assert all(
        "nested" not in r.detail for r in read(inbound(brackets_in_text, kid=None), allow_test_oins=True).reasons
    )


def test_a_record_dated_by_its_producer_is_untrusted_and_keeps_its_id() -> None:
    """Broker time (spec/wire.md): CreateTime is TIMESTAMP_UNTRUSTED, first, with what else the stage finds."""
    value = nla()
    result = read(inbound(value, broker_time=False), allow_test_oins=True)
    assert result.event is None
    assert [r.code for r in result.reasons] == [ReasonCode.TIMESTAMP_UNTRUSTED]
    assert result.id == json.loads(value)["id"]  # the receipt names the report
    broken = read(inbound(event(specversion="0.3"), broker_time=False), allow_test_oins=True)
    assert [r.code for r in broken.reasons] == [ReasonCode.TIMESTAMP_UNTRUSTED, ReasonCode.EVENT_INVALID]


def test_producer_time_is_taken_only_when_trusted() -> None:
    trusted = read(inbound(nla(), broker_time=False), allow_test_oins=True, trust_producer_time=True)
    assert trusted.reasons == []
    assert trusted.event is not None
    assert read(inbound(nla(), broker_time=True), allow_test_oins=True).reasons == []


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.none(), st.binary(max_size=300)), millis=st.integers(-(2**63), 2**63 - 1))
def test_no_bytes_and_no_timestamp_get_past_an_untrusted_clock(value: bytes | None, millis: int) -> None:
    """Whatever a CreateTime record holds, it is refused at read, and TIMESTAMP_UNTRUSTED comes first."""
    record = inbound(value, timestamp_ms=millis, broker_time=False, kid=None)
    result = read(record, allow_test_oins=True)
    assert result.event is None
    assert result.reasons[0].code is ReasonCode.TIMESTAMP_UNTRUSTED
