"""The whole decision, offline: every sample of the demo gets its outcome and reason codes."""

import json
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from gateway.audit.index import AuditIndex
from gateway.decision import signal_id_for
from gateway.demo import samples as s
from gateway.demo.scenario import SCENARIO_NOW, Sample, samples
from gateway.inbound import InboundRecord, Position
from gateway.pipeline import Rules, decide
from gateway.processor import Processor
from gateway.reasons import Outcome
from gateway.signing import Signer
from gateway.types import PartnerId
from tests.helpers import NOW, Memory, from_sample, inbound, nla

SAMPLES = samples(SCENARIO_NOW)


def as_record(sample: Sample, offset: int) -> InboundRecord:
    return from_sample(sample, offset, SCENARIO_NOW)


@pytest.mark.parametrize("sample", SAMPLES, ids=[x.label for x in SAMPLES])
def test_every_sample_gets_its_outcome(rules: Rules, sample: Sample) -> None:
    memory = Memory()
    first = SAMPLES[0]
    if sample.outcome is Outcome.DUPLICATE:
        event = json.loads(first.value or b"")
        memory.seen[(event["source"], event["id"])] = Position("gkt.in.nla", 0, 0)
    decision = decide(as_record(sample, 5), rules, memory)
    assert decision.outcome is sample.outcome
    assert [r.code for r in decision.reasons] == list(sample.codes)
    expected = sample.destination
    assert decision.destination == expected


def test_the_samples_cover_every_reason_code_of_reports() -> None:
    """Every code of the report stages; the verdict codes have their own cases (tests/unit/test_review.py).

    Not TIMESTAMP_UNTRUSTED: the demo runs on the embedded broker, which keeps producers' timestamps, so it
    trusts them (spec/wire.md); tests/unit/test_read.py and tests/integration/test_broker_time.py show it.
    """
    from gateway.reasons import ReasonCode, Stage

    covered = {code for sample in SAMPLES for code in sample.codes}
    expected = {code for code in ReasonCode if code.stage not in (Stage.VERDICT, Stage.FEEDBACK)}
    expected -= {ReasonCode.TIMESTAMP_UNTRUSTED}
    assert covered == expected


def test_duplicate_names_the_original(rules: Rules) -> None:
    memory = Memory()
    value = nla()
    first = decide(inbound(value, offset=3), rules, memory)
    assert first.outcome is Outcome.ROUTED
    assert first.event is not None
    memory.seen[first.event.identity] = first.position
    again = decide(inbound(value, offset=9), rules, memory)
    assert again.outcome is Outcome.DUPLICATE
    assert again.original == Position("gkt.in.nla", 0, 3)
    # Deciding the first record again (after a crash) is not a duplicate of itself.
    assert decide(inbound(value, offset=3), rules, memory).outcome is Outcome.ROUTED


def test_unauthenticated_garbage_cannot_block_a_report(rules: Rules) -> None:
    index = AuditIndex()
    processor = Processor(rules, Signer.generate("gw"), index, "urn:nld:oin:00000001003214345000:gkt")
    value = nla()
    heads = {Position("gkt.in.nla", 0, 0).chain: index.head(Position("gkt.in.nla", 0, 0).chain)}
    forged = inbound(value, kid=None, offset=0)  # same id and source, but unsigned
    real = inbound(value, offset=1)
    result = processor.process([forged, real], heads)
    assert [d.outcome for d in result.decisions] == [Outcome.REJECTED, Outcome.ROUTED]


def test_signal_id_is_predictable(rules: Rules) -> None:
    value = nla()
    decision = decide(inbound(value), rules, Memory())
    event = json.loads(value)
    assert decision.signal_id == signal_id_for(event["source"], event["id"])
    assert decision.signal_id == signal_id_for(s.NLA_SOURCE, event["id"])


def test_same_record_same_decision(rules: Rules) -> None:
    record = inbound(nla())
    one, two = decide(record, rules, Memory()), decide(record, rules, Memory())
    assert (one.outcome, one.reasons, one.destination, one.enforcement) == (
        two.outcome,
        two.reasons,
        two.destination,
        two.enforcement,
    )


def test_sunset_refuses_a_version(rules: Rules) -> None:
    agreement = rules.agreements.governing(PartnerId("nla"), NOW)
    assert agreement is not None
    terms = agreement.report_types[0]
    patched_terms = terms.model_copy(update={"sunset": {"1.0": NOW - timedelta(days=1)}})
    patched = agreement.model_copy(update={"report_types": [patched_terms]})
    from gateway.stages.agreement import check_agreement
    from gateway.stages.contract import check_contract
    from gateway.stages.read import read

    event = read(inbound(nla()), allow_test_oins=True).event
    assert event is not None
    checked = check_contract(event, rules.contracts, NOW.date())
    assert checked.report is not None
    subject = checked.report.subject(NOW.date())
    reasons = check_agreement(event, patched, checked.report, subject, NOW)
    assert [(r.code.value, r.path) for r in reasons] == [("REPORT_TYPE_NOT_AGREED", "/dataschema")]
    assert check_agreement(event, patched, checked.report, subject, NOW - timedelta(days=2)) == []


def test_evidence_lists_every_shortfall(rules: Rules) -> None:
    value = nla(oordeel="vermoeden", indicatoren=[{"code": "LOON"}])
    decision = decide(inbound(value), rules, Memory())
    assert [(r.code.value, r.detail) for r in decision.reasons] == [
        ("EVIDENCE_INSUFFICIENT", "oordeel must be zwaar_vermoeden"),
        ("EVIDENCE_INSUFFICIENT", "at least 3 distinct indicators are needed"),
        ("EVIDENCE_INSUFFICIENT", "at least one of GEZAG is needed"),
    ]


def test_a_bug_in_a_stage_quarantines_instead_of_crashing(rules: Rules, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom 111222333")  # a message that quotes the record must not be logged

    monkeypatch.setattr("gateway.pipeline._run_stages", broken)
    index = AuditIndex()
    processor = Processor(rules, Signer.generate("gw"), index, "urn:x")
    chain = Position("gkt.in.nla", 0, 0).chain
    with capture_logs() as logs:
        result = processor.process([inbound(nla())], {chain: index.head(chain)})
    assert [d.outcome for d in result.decisions] == [Outcome.QUARANTINED]
    assert [m.topic for m in result.outputs] == ["gkt.quarantine", "gkt.feedback.nla"]
    receipt = json.loads(result.outputs[1].value)
    # An ordinary "accepted", with the signal id a routed report gets: nothing tells the sender it is held.
    assert receipt["outcome"] == "accepted"
    assert receipt["signal_id"] == result.decisions[0].signal_id is not None
    assert len(result.audits) == 1
    assert [entry["error"] for entry in logs if entry["event"] == "decision_failed"] == ["RuntimeError"]
    assert "111222333" not in repr(logs)


def test_records_at_or_below_the_chain_head_are_not_decided_again(rules: Rules) -> None:
    index = AuditIndex()
    processor = Processor(rules, Signer.generate("gw"), index, "urn:x")
    chain = Position("gkt.in.nla", 0, 0).chain
    heads = {chain: index.head(chain)}
    first = processor.process([inbound(nla(), offset=0), inbound(nla(), offset=1)], heads)
    assert heads[chain].seq == 1
    again = processor.process([inbound(nla(), offset=1), inbound(nla(), offset=2)], heads)
    assert again.skipped == 1
    assert [d.position.offset for d in again.decisions] == [2]
    assert heads[chain].seq == 2
    assert again.commit == {("gkt.in.nla", 0): 3}
    assert len(first.audits) == 2


def test_the_day_of_receipt_is_dutch_for_the_contracts_date_rules(rules: Rules) -> None:
    """An inspection dated today, reported at 00:30 Dutch time (22:30 UTC the day before), is not in the future."""
    from datetime import UTC, datetime

    late_evening_utc = datetime(2025, 6, 2, 22, 30, tzinfo=UTC)  # 3 June 00:30 in Amsterdam
    value = nla(at=late_evening_utc, inspectieDatum="2025-06-03", periode={"van": "2025-01-01", "tot": "2025-06-03"})
    assert decide(inbound(value, at=late_evening_utc), rules, Memory()).outcome is Outcome.ROUTED
    value = nla(at=late_evening_utc, inspectieDatum="2025-06-04", periode={"van": "2025-01-01", "tot": "2025-06-03"})
    decision = decide(inbound(value, at=late_evening_utc), rules, Memory())
    assert [(r.code.value, r.path) for r in decision.reasons] == [("CONTRACT_VIOLATION", "/data/inspectieDatum")]
