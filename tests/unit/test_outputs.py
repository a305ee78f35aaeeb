"""What a decision writes: receipts that reveal nothing, signals in the published shape, masked dead letters."""

import json
from datetime import date

from contracts.masking import mask
from contracts.signal import Signal
from gateway.audit.index import AuditIndex
from gateway.demo import samples as s
from gateway.demo.scenario import SCENARIO_NOW
from gateway.inbound import SIGNATURE_HEADER, Position
from gateway.pipeline import Rules
from gateway.processor import Processor
from gateway.signing import Signer, verify_detached
from tests.helpers import NOW, inbound, kvk, make_rules, nla

SIGNER = Signer.generate("gw-test-1")
SOURCE = "urn:nld:oin:00000001003214345000:gkt"


def run(rules: Rules, *records):  # type: ignore[no-untyped-def]
    index = AuditIndex()
    processor = Processor(rules, SIGNER, index, SOURCE)
    heads = {r.position.chain: index.head(r.position.chain) for r in records}
    return processor.process(list(records), heads)


def by_topic(result) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[dict]] = {}
    for message in result.outputs:
        out.setdefault(message.topic, []).append(
            json.loads(message.value)
            if message.topic != "gkt.deadletter"
            else {"raw": message.value, "headers": dict(message.headers)}
        )
    return out


def test_routed_signal_is_a_signed_cloudevent_in_the_published_shape(rules: Rules) -> None:
    result = run(rules, inbound(nla()))
    message = next(m for m in result.outputs if m.topic == "bd.detectie.mkb")
    headers = dict(message.headers)
    assert verify_detached(headers[SIGNATURE_HEADER].decode(), message.value, SIGNER.key, "EdDSA")
    event = json.loads(message.value)
    assert event["type"] == "nl.belastingdienst.gkt.signaal.schijnzelfstandigheid"
    assert event["dataschema"] == "urn:gkt:contract:nl.belastingdienst.gkt.signaal:1.2"
    assert event["source"] == SOURCE
    assert message.key == event["id"].encode()
    signal = Signal.model_validate(event["data"], strict=False)
    assert signal.signaalId == event["id"]
    assert signal.melding.partner == "nla"
    assert signal.opdrachtnemers.aantal == 2
    assert signal.opdrachtnemers.bsns == ["123456782"]  # agreed for NLA
    assert signal.opdrachtgever.rsin == "100000009"
    assert signal.handhaving.beleid == "handhavingsplan-2025:1"
    assert signal.audit.chain == "gkt.in.nla/0"
    assert signal.audit.seq == 0


def test_receipts_never_reveal_destination_or_quarantine(rules: Rules) -> None:
    routed = inbound(nla(), offset=0)
    quarantined = inbound(s.encode(s.event(s.nla_report(s.UNKNOWN_CLIENT), time=routed.received_at)), offset=1)
    receipts = by_topic(run(rules, routed, quarantined))["gkt.feedback.nla"]
    assert [r["outcome"] for r in receipts] == ["accepted", "accepted"]
    for receipt in receipts:
        text = json.dumps(receipt)
        assert receipt["reasons"] == []
        assert "quarantine" not in text
        assert "bd." not in text
        assert "REFERENCE_UNKNOWN" not in text
        assert receipt["signal_id"] is not None
        assert set(receipt) == {
            "id",
            "source",
            "inbound",
            "event_digest",
            "outcome",
            "reasons",
            "signal_id",
            "original",
            "decided_at",
        }


def test_every_receipt_is_signed_by_the_gateway(rules: Rules) -> None:
    result = run(rules, inbound(nla()), inbound(b"garbage", kid=None, offset=1))
    receipts = [m for m in result.outputs if m.topic == "gkt.feedback.nla"]
    assert len(receipts) == 2
    for message in receipts:
        token = dict(message.headers)[SIGNATURE_HEADER].decode()
        assert verify_detached(token, message.value, SIGNER.key, "EdDSA")


def test_rejection_receipt_lists_reasons_with_detail(rules: Rules) -> None:
    receipt = by_topic(run(rules, inbound(nla(oordeel="vermoeden"))))["gkt.feedback.nla"][0]
    assert receipt["outcome"] == "rejected"
    assert receipt["signal_id"] is None
    assert receipt["reasons"] == [
        {"code": "EVIDENCE_INSUFFICIENT", "path": "/data/oordeel", "detail": "oordeel must be zwaar_vermoeden"}
    ]


def test_unreadable_record_receipt_and_masked_dead_letter(rules: Rules) -> None:
    value = b'{"bsn": "123456782", "naam": "Jan Jansen", \xc3\xa9 broken'
    result = run(rules, inbound(value, kid=None, offset=7))
    topics = by_topic(result)
    receipt = topics["gkt.feedback.nla"][0]
    assert receipt["id"] is None
    assert receipt["source"] is None
    assert receipt["outcome"] == "rejected"
    assert result.outputs[-1].key == b"gkt.in.nla/0/7"
    dead = topics["gkt.deadletter"][0]
    assert b"123456782" not in dead["raw"]
    assert b"Jan" not in dead["raw"]
    assert len(dead["raw"]) == len(value)
    assert dead["raw"].startswith(b'{"xxx": "999999999", "xxxx": "xxx xxxxxx", ?? xxxxxx')
    assert dead["headers"]["gkt-reason"] == b"EVENT_UNREADABLE"
    assert dead["headers"]["gkt-inbound"] == b"gkt.in.nla/0/7"


def test_prohibited_content_is_copied_nowhere(rules: Rules) -> None:
    report = s.nla_report()
    report["opdrachtnemers"][0]["nationaliteit"] = "Verwegistan"
    result = run(rules, inbound(s.encode(s.event(report, time=inbound(b"").received_at))))
    everything = b"".join(m.value for m in result.outputs + result.audits)
    assert b"Verwegistan" not in everything
    assert b"123456782" not in everything
    assert [m.topic for m in result.outputs] == ["gkt.feedback.nla"]


def test_quarantine_record_holds_the_event_for_review(rules: Rules) -> None:
    value = s.encode(s.event(s.nla_report(s.UNKNOWN_CLIENT), time=inbound(b"").received_at))
    record = by_topic(run(rules, inbound(value)))["gkt.quarantine"][0]
    assert record["reasons"][0]["code"] == "REFERENCE_UNKNOWN"
    assert record["event"] == json.loads(value)
    assert record["agreement"].startswith("nla:2025.1:sha256:")


def test_audit_records_hold_no_personal_data(rules: Rules) -> None:
    result = run(rules, inbound(nla()), inbound(nla(oordeel="vermoeden"), offset=1))
    for message in result.audits:
        assert b"123456782" not in message.value  # BSN
        assert b"100000009" not in message.value  # RSIN
        assert b"De Vries" not in message.value  # a name
        assert b"timmerman" not in message.value


def test_mask_keeps_shape_only() -> None:
    assert mask(b'{"a1": [true, "\xc3\xa9"]}') == b'{"x9": [xxxx, "??"]}'


def test_chain_positions_per_partition(rules: Rules) -> None:
    records = [
        inbound(nla(), offset=0, partition=0),
        inbound(nla(), offset=0, partition=1),
        inbound(nla(), offset=1, partition=0),
    ]
    audits = [json.loads(m.value) for m in run(rules, *records).audits]  # grouped by chain, each in order
    assert [(a["chain"], a["seq"]) for a in audits] == [("gkt.in.nla/0", 0), ("gkt.in.nla/0", 1), ("gkt.in.nla/1", 0)]
    assert audits[1]["prev"] == audits[0]["hash"]
    assert [a["sig"] is not None for a in audits] == [False, True, True]  # the last of each chain is signed
    assert Position("gkt.in.nla", 1, 0).chain == "gkt.in.nla/1"


def test_every_record_written_matches_its_published_model(rules: Rules) -> None:
    from gateway.demo.scenario import SCENARIO_NOW, samples
    from gateway.messages import AuditRecord, QuarantineRecord, Receipt, SignalEvent, validate
    from tests.helpers import from_sample

    records = [from_sample(x, i, SCENARIO_NOW) for i, x in enumerate(samples(SCENARIO_NOW))]
    result = run(rules, *records)
    models = {"gkt.quarantine": QuarantineRecord, "gkt.feedback.nla": Receipt, "gkt.feedback.kvk": Receipt}
    checked = 0
    for message in result.outputs:
        if message.topic.startswith("bd."):
            validate(SignalEvent, message.value)
            checked += 1
        elif message.topic in models:
            validate(models[message.topic], message.value)
            checked += 1
    for message in result.audits:
        validate(AuditRecord, message.value)
    assert checked == len(records) + 8  # a receipt each, 5 signals, 3 quarantine records


def test_a_retry_with_other_bytes_is_a_duplicate_whose_receipt_shows_the_digests_differ(rules: Rules) -> None:
    first = s.event(s.nla_report(), time=NOW, event_id="retry-1")
    same = s.encode(first)
    changed = s.encode({**first, "data": {**first["data"], "zaakReferentie": "NLA-2025-000999"}})
    result = run(rules, inbound(same, offset=0), inbound(same, offset=1), inbound(changed, offset=2))
    receipts = [json.loads(m.value) for m in result.outputs if m.topic == "gkt.feedback.nla"]
    assert [r["outcome"] for r in receipts] == ["accepted", "duplicate", "duplicate"]
    original = receipts[0]["event_digest"]
    assert receipts[1]["original"] == {"topic": "gkt.in.nla", "partition": 0, "offset": 0, "event_digest": original}
    assert receipts[1]["event_digest"] == original, "the same bytes again"
    assert receipts[2]["original"]["event_digest"] == original
    assert receipts[2]["event_digest"] != original, "other bytes under the same id: the partner sees it"


def test_the_original_digest_is_known_after_a_restart_whatever_order_the_log_is_read_in(rules: Rules) -> None:
    first = s.encode(s.event(s.nla_report(), time=NOW, event_id="retry-2"))
    audits = [json.loads(m.value) for m in run(rules, inbound(first, offset=0), inbound(first, offset=1)).audits]
    for order in (audits, list(reversed(audits))):
        index = AuditIndex()
        for record in order:
            index.apply(record)
        known = index.first(s.NLA_SOURCE, "retry-2")
        assert known is not None
        assert (known.position.offset, known.digest) == (0, audits[0]["event"]["digest"])


def test_the_published_definitions_refuse_what_the_gateway_does_not_write() -> None:
    import pytest
    from pydantic import ValidationError

    from gateway.messages import AuditRecord, Receipt, validate

    receipt = run(make_rules(), inbound(nla())).outputs[-1].value
    validate(Receipt, receipt)
    with pytest.raises(ValidationError):
        validate(Receipt, receipt.replace(b'"outcome":"accepted"', b'"outcome":"routed"'))  # never told
    with pytest.raises(ValidationError):
        validate(Receipt, receipt[:-1] + b',"destination":"bd.detectie.mkb"}')  # no field of its own
    audit = run(make_rules(), inbound(nla())).audits[0].value
    with pytest.raises(ValidationError):
        validate(AuditRecord, audit.replace(b'"prev":"sha256:', b'"prev":"md5:'))


def signal_of(result) -> Signal:  # type: ignore[no-untyped-def]
    [message] = [m for m in result.outputs if m.topic.startswith("bd.")]
    return Signal.model_validate(json.loads(message.value)["data"], strict=False)


def test_free_texts_reach_detection_only_where_the_agreement_forwards_them(rules: Rules) -> None:
    """spec/selection.md: NLA 2026.1 forwards indicator texts and toelichting; 2025.1 forwards nothing."""
    report = s.nla_report_20()
    report["indicatoren"][0]["toelichting"] = "Werkgever bepaalt de werktijden."
    report["opdrachtnemers"][1]["functie"] = "uitvoerder"
    later = SCENARIO_NOW
    value = s.encode(s.event({**report, "toelichting": "Bij controle aangetroffen."}, time=later, version="2.0"))
    signal = signal_of(run(rules, inbound(value, at=later)))
    grounds = signal.onderbouwing
    assert grounds is not None
    assert grounds.inspectieDatum == date(2025, 3, 10)
    assert grounds.functies == ["timmerman", "uitvoerder"]
    assert [(i.code, i.bron, i.toelichting) for i in grounds.indicatoren] == [
        ("GEZAG", "waarneming", "Werkgever bepaalt de werktijden."),
        ("INBEDDING", "verklaring", None),
        ("LOON", "document", None),
    ]
    assert grounds.toelichting == "Bij controle aangetroffen."

    # 2025.1 agrees indicator texts as fields but forwards none of them.
    earlier = s.nla_report()
    earlier["indicatoren"][0]["toelichting"] = "Werkgever bepaalt de werktijden."
    held_back = signal_of(run(rules, inbound(s.encode(s.event(earlier, time=NOW)), at=NOW))).onderbouwing
    assert held_back is not None
    assert [i.toelichting for i in held_back.indicatoren] == [None, None, None]
    assert held_back.inspectieDatum == date(2025, 3, 10)


def test_a_kvk_signal_has_no_period_and_judges_nothing_that_needs_one(rules: Rules) -> None:
    """spec/selection.md: periode, periodeCorrigeerbaar and boeteMogelijk are null; the Vanaf dates are given."""
    at = SCENARIO_NOW  # 2026: under a period this report would have said boeteMogelijk true
    signal = signal_of(run(rules, inbound(kvk(at), partner="kvk", kid="kvk-2025-01", at=at)))
    assert signal.periode is None
    assert (signal.handhaving.periodeCorrigeerbaar, signal.handhaving.boeteMogelijk) == (None, None)
    assert signal.handhaving.correctieMogelijkVanaf == date(2025, 1, 1)  # the ingroeimodel
    assert signal.handhaving.boeteMogelijkVanaf == date(2026, 1, 1)
    assert signal.onderbouwing is not None
    assert signal.onderbouwing.inspectieDatum == date(2025, 2, 3)
    assert [(i.code, i.bron, i.toelichting) for i in signal.onderbouwing.indicatoren] == [
        ("EERDER_IN_DIENST", None, None),
        ("EEN_OPDRACHTGEVER", None, None),
    ]


def test_policy_version_1_passes_no_ht_level_on(rules: Rules) -> None:
    """spec/selection.md: version 1 did not read levels, so the signal's htNiveau is null whatever the reference
    data says; version 2 reads them and passes them on."""
    under_1 = signal_of(run(rules, inbound(nla(client=s.KNOWN_CLIENT_HT), at=NOW)))
    assert under_1.handhaving.beleid == "handhavingsplan-2025:1"
    assert under_1.handhaving.horizontaalToezicht is True
    assert under_1.handhaving.htNiveau is None
    later = SCENARIO_NOW
    value = s.encode(s.event(s.nla_report(s.KNOWN_CLIENT_HT), time=later))
    under_2 = signal_of(run(rules, inbound(value, at=later)))
    assert under_2.handhaving.beleid == "handhavingsplan-2025:2"
    assert under_2.handhaving.htNiveau == "fiscaliteit"
