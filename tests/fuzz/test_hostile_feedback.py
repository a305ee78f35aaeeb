"""Property tests: hostile records on ``bd.terugkoppeling`` against a routed signal (spec/selection.md).

Whatever a writer of ``bd.terugkoppeling`` sends — any bytes (lone surrogates, huge numbers, wide objects), any
headers (null values, several signatures), any key and timestamp, a step with one member replaced, a team's
real signature over it or a broken one — every record gets exactly one decision and one audit record and
nothing else, every output encodes and stays bounded, and no name the sender chose (a team, a signal id, a kid)
reaches the audit log or a log line unless it is ours.
"""

import dataclasses
import json
import re
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
from gateway.selection.history import ClientHistory
from gateway.selection.key import ClientKey
from gateway.signing import Signer
from tests.fuzz.conftest import count
from tests.fuzz.test_hostile_batches import JSON, PLANTED, TIMESTAMPS, VALUES, escaped, signature
from tests.helpers import NOW, check_outputs, inbound, make_rules, nla

RULES = dataclasses.replace(make_rules(), trust_producer_time=False)  # as in production
SIGNER = Signer.generate("gw-fuzz-feedback")
TEAMS = ("mkb-oost", "mkb-west")
LATER = int((NOW + timedelta(days=1)).timestamp() * 1000)
SHAPE = re.compile(r"[x9?\W_]*")  # what masking leaves of a sender's text: its shape


def routed() -> tuple[Processor, dict[Any, ChainHead], str]:
    processor = Processor(RULES, SIGNER, AuditIndex(), "urn:x", clients=ClientHistory(ClientKey(b"f" * 32)))
    report = inbound(nla())
    heads = {report.position.chain: ChainHead.empty(report.position.chain)}
    audit = strict_loads(processor.process([report], heads).audits[0].value)
    assert audit["outcome"] == "routed"
    return processor, heads, str(audit["destination"]["signal_id"])


@st.composite
def step_value(draw: st.DrawFn, signal_id: str) -> bytes:
    """A step on the signal with one member replaced or removed, or a planted name in it; half well formed."""
    body: dict[str, Any] = {
        "signaalId": draw(st.sampled_from([signal_id, signal_id, "0b9c2f1e-7d3a-5c11-9e4b-2a6f8d0c4e17", *PLANTED])),
        "status": draw(st.sampled_from([*s.FEEDBACK_STATUSES, "verdacht"])),
        "op": draw(st.sampled_from(["2025-06-02", "2025-06-03", "2025-06-01", "2025-02-30", "9999-12-31"])),
        "team": draw(st.sampled_from([*TEAMS, *PLANTED])),
    }
    name = draw(st.sampled_from([*body, *PLANTED, "extra"]))
    change = draw(st.sampled_from(["none", "none", "set", "delete"]))
    if change == "set":
        body[name] = draw(JSON)
    elif change == "delete":
        body.pop(name, None)
    return escaped(body)


@st.composite
def feedback_record(draw: st.DrawFn, signal_id: str, offset: int) -> InboundRecord:
    value = draw(step_value(signal_id)) if draw(st.integers(0, 3)) else draw(VALUES)
    headers: list[tuple[str, bytes | None]] = []
    team = draw(st.sampled_from(TEAMS))
    try:  # mostly signed by the team the step names, so that recorded steps are reached too
        named = json.loads(value or b"").get("team")
        team = named if named in TEAMS and draw(st.integers(0, 3)) else team
    except (ValueError, AttributeError, RecursionError):
        pass
    if draw(st.integers(0, 3)):
        headers.append((SIGNATURE_HEADER, s.sign_feedback(value or b"", team)))
    else:
        headers += [(SIGNATURE_HEADER, draw(signature(value))) for _ in range(draw(st.integers(0, 2)))]
    timestamp = LATER if draw(st.integers(0, 3)) else draw(TIMESTAMPS)
    key = signal_id.encode() if draw(st.integers(0, 3)) else draw(st.none() | st.binary(max_size=40))
    position = Position("bd.terugkoppeling", 0, offset)
    return InboundRecord(position, timestamp, value, tuple(headers), key=key, broker_time=bool(draw(st.integers(0, 3))))


@given(st.data())
def test_any_feedback_records_are_decided_bounded_and_masked(data: st.DataObject) -> None:
    count("feedback batches")
    processor, heads, signal_id = routed()
    records = [data.draw(feedback_record(signal_id, offset)) for offset in range(data.draw(st.integers(1, 4)))]
    heads[records[0].position.chain] = ChainHead.empty(records[0].position.chain)
    with capture_logs() as logs:
        result = processor.process(records, heads)
    assert len(result.feedback) == len(result.audits) == len(records)
    assert result.outputs == [], "a step writes its audit record and nothing else"
    check_outputs(result)
    audits = [strict_loads(m.value) for m in result.audits]
    for audit in audits:
        event(f"outcome {audit['outcome']}")  # --hypothesis-show-statistics: recorded steps are reached too
        feedback = audit["feedback"]
        assert feedback["team"] in (None, *TEAMS)
        assert feedback["signal_id"] in (None, signal_id) or SHAPE.fullmatch(feedback["signal_id"])
        assert audit["event"]["kid"] in (None, "mkb-oost-2025", "mkb-west-2025") or SHAPE.fullmatch(
            audit["event"]["kid"]
        )
        if audit["outcome"] == "recorded":
            assert feedback["signal_id"] == signal_id
            assert feedback["partner"] == "nla"
    told = b"".join(m.value for m in result.audits) + repr(logs).encode()
    for planted in PLANTED:
        assert planted.encode() not in told
