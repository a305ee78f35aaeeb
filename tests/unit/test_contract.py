"""Stage 5, contract: NLA 1.0 and KVK 1.0, every violation listed with its JSON pointer."""

import json
import typing
from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from contracts.base import fields_of
from contracts.registry import ContractRegistry
from gateway.demo import samples as s
from gateway.stages.contract import reason_for

REGISTRY = ContractRegistry.discover()
NLA = REGISTRY.get("nl.nla.schijnzelfstandigheid", "1.0")
KVK = REGISTRY.get("nl.kvk.inschrijvingssignaal", "1.0")
TODAY = date(2025, 6, 2)


def problems(contract: Any, data: Any) -> list[tuple[str, str | None]]:
    _, violations = contract.validate(data, TODAY)
    return sorted((r.code.value, r.path) for r in map(reason_for, violations))


def test_registry_finds_both_report_types() -> None:
    assert NLA is not None
    assert KVK is not None
    assert REGISTRY.get("nl.nla.schijnzelfstandigheid", "9.0") is None
    assert REGISTRY.types() >= {"nl.nla.schijnzelfstandigheid", "nl.kvk.inschrijvingssignaal"}


def test_valid_reports() -> None:
    assert problems(NLA, s.nla_report()) == []
    assert problems(KVK, s.kvk_report()) == []


def test_every_violation_is_listed_not_just_the_first() -> None:
    report = s.nla_report()
    del report["zaakReferentie"]
    report["opdrachtgever"]["kvkNummer"] = "1234"
    report["opdrachtnemers"][0]["bsn"] = "111222334"
    report["periode"] = {"van": "2025-02-01", "tot": "2025-01-01"}
    report["oordeel"] = "misschien"
    report["onbekend"] = True
    assert problems(NLA, report) == [
        ("CONTRACT_VIOLATION", "/data/oordeel"),
        ("CONTRACT_VIOLATION", "/data/periode"),
        ("CONTRACT_VIOLATION", "/data/xxxxxxxx"),  # a name the contract does not define is the sender's: masked
        ("CONTRACT_VIOLATION", "/data/zaakReferentie"),
        ("IDENTIFIER_INVALID", "/data/opdrachtgever/kvkNummer"),
        ("IDENTIFIER_INVALID", "/data/opdrachtnemers/0/bsn"),
    ]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"inspectieDatum": "2025-06-03"}, "/data/inspectieDatum"),  # after the day of receipt
        ({"inspectieDatum": "2025-6-3"}, "/data/inspectieDatum"),
        ({"inspectieDatum": 20250601}, "/data/inspectieDatum"),
        ({"zaakReferentie": ""}, "/data/zaakReferentie"),
        ({"zaakReferentie": "x" * 65}, "/data/zaakReferentie"),
        ({"opdrachtnemers": []}, "/data/opdrachtnemers"),
        ({"opdrachtnemers": [{"functie": "x"}] * 1001}, "/data/opdrachtnemers"),
        ({"indicatoren": []}, "/data/indicatoren"),
        ({"indicatoren": [{"code": "GEZAG"}, {"code": "GEZAG"}]}, "/data/indicatoren"),
        ({"indicatoren": [{"code": "ONBEKEND"}]}, "/data/indicatoren/0/code"),
        ({"kwaadwillendheid": "true"}, "/data/kwaadwillendheid"),
        ({"kwaadwillendheid": 1}, "/data/kwaadwillendheid"),
        ({"toelichting": "x" * 4001}, "/data/toelichting"),
        ({"opdrachtgever": {"kvkNummer": "12345678"}}, "/data/opdrachtgever/naam"),
        ({"opdrachtgever": {"kvkNummer": 12345678, "naam": "x"}}, "/data/opdrachtgever/kvkNummer"),
    ],
)
def test_nla_rules(change: dict[str, Any], path: str) -> None:
    assert [p for _, p in problems(NLA, s.nla_report(**change))] == [path]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rsin", "111222334"),
        ("vestigingsnummer", "00001234567"),
        ("loonheffingennummer", "123456782L00"),
        ("btwId", "NL123456789B90"),
    ],
)
def test_nla_client_identifiers(field: str, value: str) -> None:
    report = s.nla_report()
    report["opdrachtgever"][field] = value
    assert problems(NLA, report) == [("IDENTIFIER_INVALID", f"/data/opdrachtgever/{field}")]


def test_data_that_is_not_an_object() -> None:
    assert problems(NLA, [1, 2]) == [("CONTRACT_VIOLATION", "/data")]


def test_violation_detail_never_quotes_the_value() -> None:
    report = s.nla_report()
    report["opdrachtnemers"][0]["bsn"] = "111222334"
    _, reasons = NLA.validate(report, TODAY)  # type: ignore[union-attr]
    assert reasons
    assert all("111222334" not in r.detail for r in reasons)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"indicatoren": ["GEZAG"]}, "/data/indicatoren/0"),  # not in KVK's subset
        (
            {"inschrijving": {"kvkNummer": "65432109", "datum": "2025-02-03", "rechtsvorm": "bv"}},
            "/data/inschrijving/rechtsvorm",
        ),
        (
            {"inschrijving": {"kvkNummer": "65432109", "datum": "2025-06-03", "rechtsvorm": "vof"}},
            "/data/inschrijving/datum",
        ),
        (
            {"inschrijving": {"kvkNummer": "65432109", "datum": "2025-02-03", "rechtsvorm": "vof", "sbiCode": "1"}},
            "/data/inschrijving/sbiCode",
        ),
        ({"opdrachtgever": {"kvkNummer": "12345678", "naam": "x", "rsin": "111222333"}}, "/data/opdrachtgever/rsin"),
        ({"opdrachtnemers": [{"functie": "x", "bsn": "123456782"}]}, "/data/opdrachtnemers"),  # KVK never sends a BSN
    ],
)
def test_kvk_rules(change: dict[str, Any], path: str) -> None:
    assert [p for _, p in problems(KVK, s.kvk_report(**change))] == [path]


def test_kvk_subject_has_no_period_and_its_registration_date_substantiates_it() -> None:
    """spec/selection.md: a registration says nothing about when work was done."""
    report, _ = KVK.validate(s.kvk_report(toelichting="Zelf gemeld bij inschrijving."), TODAY)  # type: ignore[union-attr]
    assert report is not None
    subject = report.subject(TODAY)
    assert (subject.periode_van, subject.periode_tot) == (None, None)
    assert report.substantiation().inspectie_datum == date(2025, 2, 3)
    assert report.substantiation().functies == ()
    assert [(i.code, i.bron, i.toelichting) for i in report.substantiation().indicatoren] == [
        ("EERDER_IN_DIENST", None, None),
        ("EEN_OPDRACHTGEVER", None, None),
    ]
    assert (report.substantiation().toelichting, report.substantiation().toelichting_path) == (
        "Zelf gemeld bij inschrijving.",
        ("toelichting",),
    )
    assert subject.kvk_nummers == ["65432109"]
    assert subject.bsns == []
    assert subject.keten == []


def _models_under(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    seen.add(model)
    for info in model.model_fields.values():
        for inner in _classes_in(info.annotation):
            if issubclass(inner, BaseModel) and inner not in seen:
                _models_under(inner, seen)


def _classes_in(annotation: Any) -> list[type]:
    found = [annotation] if isinstance(annotation, type) else []
    return found + [c for arg in typing.get_args(annotation) for c in _classes_in(arg)]


def test_the_agreement_walk_skips_only_fields_that_cannot_hold_an_object() -> None:
    """The agreement walk looks into a field only where the type says a model can be: that must never miss one.

    The oracle is the field's JSON Schema, which pydantic builds on its own: an object somewhere in it
    (properties or a reference to a definition) means the field can hold a model.
    """
    models: set[type[BaseModel]] = set()
    for contract in ContractRegistry.discover():
        _models_under(contract.model, models)
    assert len(models) > 5
    for model in models:
        for name, _, models in fields_of(model):
            nested = models is None or bool(models)
            schema = json.dumps(TypeAdapter(model.model_fields[name].annotation).json_schema())
            holds_object = '"properties"' in schema or '"$ref"' in schema
            assert nested == holds_object, f"{model.__name__}.{name}"


@pytest.mark.parametrize("version", ["1.0", "1.1", "2.0"])
def test_nla_subject_carries_what_substantiates_it(version: str) -> None:
    """spec/selection.md: inspectieDatum, the distinct functies (at most 50), each indicator with bron and text."""
    builder = {"1.0": s.nla_report, "1.1": s.nla_report_11, "2.0": s.nla_report_20}[version]
    data = builder()
    data["opdrachtnemers"] = [{"functie": f"functie {i % 60}", "kvkNummer": "76543210"} for i in range(120)]
    data["opdrachtnemers"][0]["functie"] = "timmerman"
    data["opdrachtnemers"][61]["functie"] = "timmerman"  # named twice: once in functies
    data["indicatoren"][1]["toelichting"] = "Werktijden door de opdrachtgever bepaald."
    data["toelichting"] = "Bij controle aangetroffen."
    contract = REGISTRY.get("nl.nla.schijnzelfstandigheid", version)
    assert contract is not None
    report, problems_found = contract.validate(data, TODAY)
    assert report is not None, problems_found
    grounds = report.substantiation()
    assert grounds.inspectie_datum == date(2025, 3, 10)
    assert len(grounds.functies) == 50
    assert grounds.functies[0] == "timmerman"
    assert len(set(grounds.functies)) == 50
    bron = {"1.0": [None] * 3, "1.1": [None] * 3, "2.0": ["waarneming", "verklaring", "document"]}[version]
    assert [(i.code, i.bron) for i in grounds.indicatoren] == list(
        zip(["GEZAG", "INBEDDING", "LOON"], bron, strict=True)
    )
    assert [(i.toelichting, i.toelichting_path) for i in grounds.indicatoren] == [
        (None, ("indicatoren", 0, "toelichting")),
        ("Werktijden door de opdrachtgever bepaald.", ("indicatoren", 1, "toelichting")),
        (None, ("indicatoren", 2, "toelichting")),
    ]
    assert grounds.toelichting == "Bij controle aangetroffen."
