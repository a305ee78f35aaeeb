"""The deduplicate, agreement and route stages on their own, each rule once (spec/wire.md, agreements.md, policy.md)."""

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from contracts.agreement import Agreement
from contracts.base import ContractModel, ReportSubject
from gateway.demo import samples as s
from gateway.inbound import CloudEvent, Position
from gateway.pipeline import Rules
from gateway.stages.agreement import check_agreement
from gateway.stages.contract import check_contract
from gateway.stages.deduplicate import deduplicate
from gateway.stages.read import read
from gateway.stages.route import route
from gateway.types import PartnerId
from routing.calendar import day_of_receipt
from routing.reference import ReferenceTable
from tests.helpers import NOW, Memory, inbound, nla

HERE = Position("gkt.in.nla", 0, 7)


def parsed(rules: Rules, value: bytes, at: datetime = NOW) -> tuple[CloudEvent, ContractModel, ReportSubject]:
    event = read(inbound(value, at=at), allow_test_oins=True).event
    assert event is not None
    checked = check_contract(event, rules.contracts, day_of_receipt(at))
    assert checked.report is not None, checked.reasons
    return event, checked.report, checked.report.subject(day_of_receipt(at))


def agreement(rules: Rules, partner: str = "nla", at: datetime = NOW) -> Agreement:
    found = rules.agreements.governing(PartnerId(partner), at)
    assert found is not None
    return found


def codes(reasons: list[Any]) -> list[tuple[str, str | None]]:
    return [(r.code.value, r.path) for r in reasons]


# Deduplicate


def test_a_first_report_is_no_duplicate(rules: Rules) -> None:
    event, _, _ = parsed(rules, nla())
    assert deduplicate(event, Memory(), HERE) == ([], None)


def test_the_same_record_decided_again_is_no_duplicate_of_itself(rules: Rules) -> None:
    event, _, _ = parsed(rules, nla())
    memory = Memory()
    memory.seen[event.identity] = HERE
    assert deduplicate(event, memory, HERE) == ([], None)


def test_a_retry_names_where_the_first_was_decided(rules: Rules) -> None:
    event, _, _ = parsed(rules, nla())
    memory = Memory()
    first = Position("gkt.in.nla", 2, 3)
    memory.seen[event.identity] = first
    reasons, original = deduplicate(event, memory, HERE)
    assert codes(reasons) == [("DUPLICATE", "/id")]
    assert original is not None
    assert original.position == first


def test_the_same_id_from_another_source_is_another_report(rules: Rules) -> None:
    event, _, _ = parsed(rules, nla())
    memory = Memory()
    memory.seen[("urn:nld:oin:00000099444555666000", event.id)] = Position("gkt.in.kvk", 0, 0)
    assert deduplicate(event, memory, HERE) == ([], None)


# Agreement


def test_no_agreement_or_one_not_in_force_is_refused(rules: Rules) -> None:
    event, report, subject = parsed(rules, nla())
    refused = [("AGREEMENT_NOT_IN_FORCE", None)]
    assert codes(check_agreement(event, None, report, subject, NOW)) == refused
    later = datetime(2031, 1, 1, tzinfo=UTC)
    assert codes(check_agreement(event, agreement(rules), report, subject, later)) == refused


def test_a_report_type_or_version_not_agreed_is_refused(rules: Rules) -> None:
    event, report, subject = parsed(rules, nla())
    other_type = replace(event, type=s.KVK_TYPE)
    assert codes(check_agreement(other_type, agreement(rules), report, subject, NOW)) == [
        ("REPORT_TYPE_NOT_AGREED", "/type")
    ]
    other_version = replace(event, version="2.0")  # agreement 2025.1 agrees 1.0 only
    assert codes(check_agreement(other_version, agreement(rules), report, subject, NOW)) == [
        ("REPORT_TYPE_NOT_AGREED", "/dataschema")
    ]


def test_an_optional_field_not_agreed_is_named_once_per_object(rules: Rules) -> None:
    value = nla(opdrachtgever={"kvkNummer": s.KNOWN_CLIENT_MKB, "naam": "X B.V.", "btwId": "NL004495445B01"})
    event, report, subject = parsed(rules, value)
    assert codes(check_agreement(event, agreement(rules), report, subject, NOW)) == [
        ("FIELD_NOT_AGREED", "/data/opdrachtgever/btwId")
    ]


def test_every_evidence_shortfall_is_listed(rules: Rules) -> None:
    value = nla(oordeel="vermoeden", indicatoren=[{"code": "LOON"}])
    event, report, subject = parsed(rules, value)
    assert codes(check_agreement(event, agreement(rules), report, subject, NOW)) == [
        ("EVIDENCE_INSUFFICIENT", "/data/oordeel"),
        ("EVIDENCE_INSUFFICIENT", "/data/indicatoren"),
        ("EVIDENCE_INSUFFICIENT", "/data/indicatoren"),
    ]


def test_an_agreed_report_passes(rules: Rules) -> None:
    event, report, subject = parsed(rules, nla())
    assert check_agreement(event, agreement(rules), report, subject, NOW) == []


# Route


def routed(rules: Rules, client: str, *, review: bool = False, on: date = date(2025, 6, 2)) -> Any:
    _, _, subject = parsed(rules, nla(client=client))
    policy = rules.policies.in_force(datetime.combine(on, datetime.min.time(), UTC))
    return route(subject, review, rules.reference, policy, on)


def test_a_known_client_gets_its_enforcement(rules: Rules) -> None:
    result = routed(rules, s.KNOWN_CLIENT_MKB)
    assert result.reasons == []
    assert result.enforcement.destination == "bd.detectie.mkb"
    assert result.client.kvkNummer == s.KNOWN_CLIENT_MKB


def test_review_and_an_unknown_client_are_both_reasons_to_hold(rules: Rules) -> None:
    result = routed(rules, s.UNKNOWN_CLIENT, review=True)
    assert codes(result.reasons) == [
        ("REVIEW_REQUIRED", None),
        ("REFERENCE_UNKNOWN", "/data/opdrachtgever/kvkNummer"),
    ]
    assert result.enforcement is None


def test_an_ht_client_without_a_level_is_held_under_version_2_only(rules: Rules) -> None:
    under_2 = routed(rules, s.KNOWN_CLIENT_HT_NO_LEVEL, on=date(2026, 5, 4))
    assert [(r.code.value, r.detail) for r in under_2.reasons] == [("REFERENCE_UNKNOWN", "HT level unknown")]
    under_1 = routed(rules, s.KNOWN_CLIENT_HT_NO_LEVEL)
    assert (under_1.reasons, under_1.enforcement.destination) == ([], "bd.ht.kwaliteitsgesprek")


def test_routing_reads_the_reference_table_it_is_given(rules: Rules) -> None:
    empty = replace(rules, reference=ReferenceTable())
    assert codes(routed(empty, s.KNOWN_CLIENT_MKB).reasons) == [("REFERENCE_UNKNOWN", "/data/opdrachtgever/kvkNummer")]
