"""Contract refusals in the gateway's own words, and a hint when the version label does not fit the data."""

from datetime import date

from contracts.registry import ContractRegistry
from gateway.demo import samples as s
from gateway.inbound import CloudEvent
from gateway.stages.contract import check_contract
from tests.helpers import NOW

REGISTRY = ContractRegistry.discover()


def checked(data: dict[str, object], version: str) -> dict[str, str]:
    event = CloudEvent(
        "e-1", s.NLA_SOURCE, "00000099111222333000", s.NLA_TYPE, f"urn:gkt:contract:{s.NLA_TYPE}:{version}",
        version, NOW, data,
    )  # fmt: skip
    return {str(reason.path): reason.detail for reason in check_contract(event, REGISTRY, date(2026, 3, 1)).reasons}


def test_an_unknown_field_and_a_missing_one_are_said_in_the_gateways_words() -> None:
    report = s.nla_report(extraVeld=1)
    del report["inspectieDatum"]
    reasons = checked(report, "1.0")
    assert reasons["/data/xxxxxxxxx"] == "is not a field of this contract version (docs/contracts.md lists the fields)"
    assert reasons["/data/inspectieDatum"] == "is required by this contract version and missing"
    assert not any("Input should" in d or "Extra inputs" in d or "Field required" in d for d in reasons.values())


def test_a_report_labelled_with_the_wrong_version_is_told_which_version_it_fits() -> None:
    reasons = checked(s.nla_report_20(), "1.1")
    assert reasons["/dataschema"] == (
        f"the data fits version 2.0 of {s.NLA_TYPE}, not 1.1: is dataschema the right version?"
    )


def test_no_hint_when_no_version_fits() -> None:
    assert "/dataschema" not in checked(s.nla_report(extraVeld=1), "1.0")
