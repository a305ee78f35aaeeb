"""Property tests: hostile records on ``gkt.review`` against a held report (spec/review.md).

Whatever a writer of ``gkt.review`` sends — any bytes, any headers, a verdict
with one member replaced, a genuine reviewer's signature over it or a broken
one — every record gets exactly one decision and one audit record, every
output encodes and stays bounded, at most one release happens, and nothing of
the grounds or of a name the sender chose reaches the audit log or a log line.
"""

import dataclasses
import json
from datetime import timedelta
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from contracts.jsonio import strict_loads
from gateway.audit.index import AuditIndex
from gateway.audit.record import ChainHead
from gateway.demo import samples as s
from gateway.inbound import SIGNATURE_HEADER, InboundRecord, Position
from gateway.processor import Processor
from gateway.signing import Signer
from tests.fuzz.conftest import count
from tests.fuzz.test_hostile_batches import JSON, PLANTED, TIMESTAMPS, VALUES, escaped, signature
from tests.helpers import NOW, check_outputs, inbound, kvk, make_rules

RULES = dataclasses.replace(make_rules(), trust_producer_time=False)  # as in production
SIGNER = Signer.generate("gw-fuzz-review")
PILOT = NOW.replace(year=2025, month=2, day=10)  # KVK agreement 2025.1: every report is held for review
LATER = int((NOW + timedelta(days=1)).timestamp() * 1000)


def held() -> tuple[Processor, dict[Any, ChainHead], InboundRecord]:
    processor = Processor(RULES, SIGNER, AuditIndex(), "urn:x")
    report = inbound(kvk(at=PILOT), partner="kvk", kid="kvk-2025-01", at=PILOT)
    heads = {report.position.chain: ChainHead.empty(report.position.chain)}
    result = processor.process([report], heads)
    assert strict_loads(result.audits[0].value)["outcome"] == "quarantined"
    return processor, heads, report


@st.composite
def verdict_value(draw: st.DrawFn, report: InboundRecord) -> bytes:
    """A verdict about the held report with one member replaced or removed, or anything at all."""
    body: dict[str, Any] = {
        "item": str(report.position),
        "event_digest": report.digest,
        "verdict": draw(st.sampled_from(["release", "discard", "recheck"])),
        "grounds": f"{PLANTED[0]} {PLANTED[1]}",
        "reviewer": draw(st.sampled_from([*s.REVIEWERS, *PLANTED])),
        "at": (NOW + timedelta(days=1)).isoformat(),
    }
    name = draw(st.sampled_from([*body, *PLANTED, "extra"]))
    change = draw(st.sampled_from(["none", "none", "set", "delete"]))  # half of them well formed
    if change == "set":
        body[name] = draw(JSON)
    elif change == "delete":
        body.pop(name, None)
    return escaped(body)


@st.composite
def review_record(draw: st.DrawFn, report: InboundRecord, offset: int) -> InboundRecord:
    value = draw(verdict_value(report)) if draw(st.integers(0, 3)) else draw(VALUES)
    headers: list[tuple[str, bytes | None]] = []
    reviewer = draw(st.sampled_from(s.REVIEWERS))
    try:  # mostly signed by the reviewer the verdict names, so that taken verdicts are reached too
        named = json.loads(value or b"").get("reviewer")
        reviewer = named if named in s.REVIEWERS and draw(st.integers(0, 3)) else reviewer
    except (ValueError, AttributeError, RecursionError):  # any bytes: not JSON, not an object, too deep
        pass
    if draw(st.integers(0, 3)):
        headers.append((SIGNATURE_HEADER, s.sign_verdict(value or b"", reviewer)))
    else:
        headers += [(SIGNATURE_HEADER, draw(signature(value))) for _ in range(draw(st.integers(0, 2)))]
    timestamp = LATER if draw(st.integers(0, 3)) else draw(TIMESTAMPS)
    # Mostly keyed by the item and dated by the broker, as gkt review writes them, so that taken verdicts are
    # reached; else any key (or none) and the producer's clock, refused under the production rules.
    key = str(report.position).encode() if draw(st.integers(0, 3)) else draw(st.none() | st.binary(max_size=40))
    broker_time = bool(draw(st.integers(0, 3)))
    position = Position("gkt.review", 0, offset)
    return InboundRecord(position, timestamp, value, tuple(headers), key=key, broker_time=broker_time)


@given(st.data())
def test_any_review_records_are_decided_bounded_and_masked(data: st.DataObject) -> None:
    count("review batches")
    processor, heads, report = held()
    records = [data.draw(review_record(report, offset)) for offset in range(data.draw(st.integers(1, 4)))]
    heads[records[0].position.chain] = ChainHead.empty(records[0].position.chain)
    with capture_logs() as logs:
        result = processor.process(records, heads, {report.position: report})
    assert len(result.verdicts) == len(result.audits) == len(records)
    check_outputs(result)
    audits = [strict_loads(m.value) for m in result.audits]
    for audit in audits:
        event(f"outcome {audit['outcome']}")  # --hypothesis-show-statistics: taken verdicts are reached too
    assert sum(a["outcome"] == "released" for a in audits) <= 1, "released at most once"
    assert not any(m.topic.startswith("gkt.feedback.") for m in result.outputs), "no receipt for a verdict"
    told = b"".join(m.value for m in result.audits) + b"".join(
        m.value for m in result.outputs if m.topic == "gkt.quarantine"
    )
    shown = repr(logs).encode()
    for planted in PLANTED:
        assert planted.encode() not in told
        assert planted.encode() not in shown
