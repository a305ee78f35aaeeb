"""Stage 1, read: size, JSON, and the CloudEvent attributes."""

import json
import re
from dataclasses import dataclass
from typing import Any

from contracts.jsonio import DuplicateMemberError, LoneSurrogateError, TooDeepError, strict_loads
from contracts.masking import pointer, register_names, segment
from contracts.registry import parse_dataschema
from gateway.inbound import CloudEvent, InboundRecord
from gateway.reasons import Reason, ReasonCode
from validators import is_oin
from validators.wire import is_event_id, is_traceparent, is_tracestate, parse_rfc3339

MAX_EVENT_BYTES = 262_144
# No contract nests deeper than a few levels; a limit keeps every later walk
# over the event (screen, contract) safe from hostile nesting.
MAX_DEPTH = 64
REQUIRED = ("specversion", "id", "source", "type", "dataschema", "time", "datacontenttype", "data")
OPTIONAL = ("traceparent", "tracestate")
# Names the CloudEvents specification itself gives (core attributes and its documented extensions): they are
# no sender's secret, so a refusal names them as they are; any other name is the sender's and is masked (G7).
CLOUDEVENTS_NAMES = (
    "subject", "data_base64", "dataref", "partitionkey", "sequence", "sampledrate", "recordedtime",
    "authid", "authtype", "authclaims", "expirytime", "severitytext", "severitynumber", "deprecated",
)  # fmt: skip
register_names((*REQUIRED, *OPTIONAL, *CLOUDEVENTS_NAMES))

_SOURCE = re.compile(r"urn:nld:oin:([0-9]{20})(?::[A-Za-z0-9._-]{1,64})?")
# type and dataschema are copied into the audit record: their length is bounded like id's.
_SOURCE_FORM = "source must be urn:nld:oin:<a valid OIN>[:<system>]"
_TEST_OIN_REFUSED = (
    "source carries a test OIN (prefix 99), accepted only with --allow-test-oins (GKT_ALLOW_TEST_OINS): "
    "demo and tests; production uses the partner's registered OIN"
)
_TYPE = re.compile(r"(?=.{3,128}$)[a-z][a-z0-9]*(?:\.[a-z][a-z0-9]*)+")


@dataclass(frozen=True, slots=True)
class ReadResult:
    """The event when readable; else the reasons, and whatever id/source could be read."""

    event: CloudEvent | None
    reasons: list[Reason]
    id: str | None = None
    source: str | None = None
    attributes: dict[str, Any] | None = None


def _unreadable(detail: str) -> ReadResult:
    return ReadResult(None, [Reason(ReasonCode.EVENT_UNREADABLE, None, detail)])


_UNTRUSTED_DETAIL = (
    "the record carries the producer's timestamp (CreateTime), not the broker's: every time rule is judged at"
    " broker time, so the topic must use message.timestamp.type=LogAppendTime"
)


def read(
    record: InboundRecord,
    *,
    allow_test_oins: bool,
    trust_producer_time: bool = False,
    max_bytes: int = MAX_EVENT_BYTES,
) -> ReadResult:
    """The event of ``record``, or every problem the read stage finds with it.

    A record dated by its producer (CreateTime) is ``TIMESTAMP_UNTRUSTED`` unless
    ``trust_producer_time``: a sender who could choose the moment could backdate a
    report to before its key was revoked (spec/wire.md, broker time). The rest of
    the stage still runs, so the receipt carries the id when it can be read.
    """
    result = _read(record, allow_test_oins=allow_test_oins, max_bytes=max_bytes)
    untrusted = untrusted_time(record, trust_producer_time=trust_producer_time)
    if untrusted is None:
        return result
    return ReadResult(None, [untrusted, *result.reasons], result.id, result.source, result.attributes)


def untrusted_time(record: InboundRecord, *, trust_producer_time: bool) -> Reason | None:
    """``TIMESTAMP_UNTRUSTED`` when ``record`` is dated by its producer and that is not trusted; else None.

    The one rule for every record the gateway decides: reports here, verdicts in ``gateway.review.decide``.
    """
    if record.broker_time or trust_producer_time:
        return None
    return Reason(ReasonCode.TIMESTAMP_UNTRUSTED, None, _UNTRUSTED_DETAIL)


def _read(record: InboundRecord, *, allow_test_oins: bool, max_bytes: int) -> ReadResult:
    value = record.value
    if value is None:
        return _unreadable("the record has no value")
    if not record.dated:
        # Every time rule is judged at the Kafka timestamp; a record that cannot be dated cannot be judged.
        return _unreadable("the record's Kafka timestamp is not a moment from 1970 to 9999")
    if len(value) > max_bytes:
        return ReadResult(
            None,
            [
                Reason(
                    ReasonCode.EVENT_TOO_LARGE,
                    None,
                    f"{len(value)} bytes, at most {max_bytes} allowed",
                )
            ],
        )
    try:
        parsed = strict_loads(value)
    except ValueError as exc:
        return _unreadable(_why_unreadable(exc))
    if not isinstance(parsed, dict):
        return _unreadable("not one JSON object")
    # Fewer brackets than levels allowed cannot nest deeper (brackets in strings only overcount): skip the walk.
    if value.count(b"{") + value.count(b"[") > MAX_DEPTH and _deeper_than(parsed, MAX_DEPTH):
        return _unreadable(f"nested deeper than {MAX_DEPTH} levels")
    return _attributes(parsed, allow_test_oins=allow_test_oins)


def _why_unreadable(exc: ValueError) -> str:
    """What is wrong, with a position where there is one; never the bytes themselves."""
    if isinstance(exc, DuplicateMemberError):
        return "an object repeats a member name"
    if isinstance(exc, LoneSurrogateError):
        return "a string holds a lone surrogate escape (not Unicode; RFC 7493)"
    if isinstance(exc, TooDeepError):
        return f"nested deeper than {MAX_DEPTH} levels"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 (byte {exc.start})"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON (line {exc.lineno}, column {exc.colno})"
    return "a number is out of range or not JSON"


def _invalid(name: str, detail: str) -> Reason:
    return Reason(ReasonCode.EVENT_INVALID, pointer(name), detail)


def _not_allowed(name: str) -> str:
    if name in CLOUDEVENTS_NAMES:
        return f"attribute {name} is a CloudEvents attribute this profile does not take (docs/partners.md, the record)"
    return f"attribute {segment(name)} is not allowed"


def _attributes(attrs: dict[str, Any], *, allow_test_oins: bool) -> ReadResult:
    reasons = [_invalid(name, f"attribute {name} is missing") for name in REQUIRED if name not in attrs]
    reasons += [_invalid(name, _not_allowed(name)) for name in attrs if name not in REQUIRED and name not in OPTIONAL]

    def text(name: str) -> str | None:
        value = attrs.get(name)
        if name in attrs and not isinstance(value, str):
            reasons.append(_invalid(name, f"{name} must be a string"))
            return None
        return value

    specversion, event_id, source = text("specversion"), text("id"), text("source")
    report_type, dataschema, time_text = text("type"), text("dataschema"), text("time")
    content_type = text("datacontenttype")
    traceparent, tracestate = text("traceparent"), text("tracestate")

    if specversion is not None and specversion != "1.0":
        reasons.append(_invalid("specversion", "specversion must be 1.0"))
    if event_id is not None and not is_event_id(event_id):
        reasons.append(_invalid("id", "id must be 1-128 characters of A-Z a-z 0-9 . _ : -"))
        event_id = None
    oin = None
    if source is not None:
        match = _SOURCE.fullmatch(source)
        if match is None or not is_oin(match.group(1), allow_test_oins=allow_test_oins):
            test_oin = match is not None and is_oin(match.group(1), allow_test_oins=True)
            reasons.append(_invalid("source", _TEST_OIN_REFUSED if test_oin else _SOURCE_FORM))
            source = None
        else:
            oin = match.group(1)
    if report_type is not None and not _TYPE.fullmatch(report_type):
        reasons.append(_invalid("type", "type must be a dotted lower-case name of at most 128 characters"))
        report_type = None
    version = None
    if dataschema is not None and report_type is not None:
        version = parse_dataschema(dataschema, report_type)
        if version is None:
            reasons.append(
                _invalid(
                    "dataschema",
                    "dataschema must be urn:gkt:contract:<type>:<MAJOR>.<MINOR> of this type",
                )
            )
    time = parse_rfc3339(time_text) if time_text is not None else None
    if time_text is not None and time is None:
        reasons.append(_invalid("time", "time must be RFC 3339 with an offset"))
    if content_type is not None and content_type != "application/json":
        reasons.append(_invalid("datacontenttype", "datacontenttype must be application/json"))
    reasons += _trace_context(traceparent, tracestate)

    if reasons:
        return ReadResult(None, reasons, event_id, source, attrs)
    # With no reason found, every attribute above was read; the asserts say so to mypy.
    assert event_id is not None, "id was read"
    assert source is not None, "source was read"
    assert oin is not None, "oin was read"
    assert report_type is not None, "type was read"
    assert dataschema is not None, "dataschema was read"
    assert version is not None, "version was read"
    assert time is not None, "time was read"
    event = CloudEvent(event_id, source, oin, report_type, dataschema, version, time, attrs["data"])
    return ReadResult(event, [], event_id, source, attrs)


def _trace_context(traceparent: str | None, tracestate: str | None) -> list[Reason]:
    """The distributed tracing extension: W3C Trace Context, so that only its small, fixed shape is copied."""
    reasons = []
    if traceparent is not None and not is_traceparent(traceparent):
        reasons.append(_invalid("traceparent", "traceparent must follow W3C Trace Context"))
    if tracestate is not None and not is_tracestate(tracestate):
        reasons.append(_invalid("tracestate", "tracestate must follow W3C Trace Context (at most 512 characters)"))
    return reasons


def _deeper_than(value: Any, limit: int) -> bool:
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True
