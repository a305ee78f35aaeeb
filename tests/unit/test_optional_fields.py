"""The agreement stage's walk over optional fields, planned once per model and place, against a plain walk."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from contracts.agreement import ReportTypeAgreement
from contracts.base import OptionalFields, Path
from contracts.reports.nla_schijnzelfstandigheid_2_0 import NlaReport20

PATTERNS = [
    "/toelichting",
    "/keten",
    "/opdrachtgever/vestigingsnummer",
    "/opdrachtgever/rsin",
    "/opdrachtgever/loonheffingennummer",
    "/opdrachtgever/btwId",
    "/opdrachtnemers/*/bsn",
    "/opdrachtnemers/*/kvkNummer",
    "/indicatoren/*/toelichting",
    "/indicatoren",
]
OPTIONAL_CLIENT = {
    "vestigingsnummer": "000012345678",
    "rsin": "100000009",
    "loonheffingennummer": "100000009L01",
    "btwId": "NL004495445B01",
}


def plain_walk(model: BaseModel, agreed: Any, path: Path = ()) -> list[Path]:
    """Every field, every value: what the plan must agree with."""
    found: list[Path] = []
    for name, info in type(model).model_fields.items():
        if name not in model.model_fields_set:
            continue
        if not info.is_required() and not agreed((*path, name)):
            found.append((*path, name))
            continue
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            found += plain_walk(value, agreed, (*path, name))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += plain_walk(item, agreed, (*path, name, index))
    return found


@st.composite
def reports(draw: st.DrawFn) -> NlaReport20:
    client = {"kvkNummer": "87654321", "naam": "X B.V."}
    client |= {k: v for k, v in OPTIONAL_CLIENT.items() if draw(st.booleans())}
    workers = [
        {"functie": "timmerman"}
        | ({"bsn": "123456782"} if draw(st.booleans()) else {})
        | ({"kvkNummer": "76543210"} if draw(st.booleans()) else {})
        for _ in range(draw(st.integers(1, 4)))
    ]
    codes = draw(st.lists(st.sampled_from(["GEZAG", "LOON", "INBEDDING"]), min_size=1, max_size=3, unique=True))
    indicators = [
        {"code": c, "bron": "waarneming"} | ({"toelichting": "t"} if draw(st.booleans()) else {}) for c in codes
    ]
    data: dict[str, Any] = {
        "zaakReferentie": "R-1",
        "inspectieDatum": "2025-03-10",
        "opdrachtgever": client,
        "opdrachtnemers": workers,
        "periode": {"van": "2024-09-01", "tot": "2025-03-10"},
        "indicatoren": indicators,
        "oordeel": "zwaar_vermoeden",
    }
    if draw(st.booleans()):
        data["toelichting"] = "x"
    if draw(st.booleans()):
        data["keten"] = [{"kvkNummer": "11223344", "naam": "Y", "rol": "uitlener"}]
    return NlaReport20.model_validate(data)


@settings(max_examples=300)
@given(reports(), st.lists(st.sampled_from(PATTERNS), unique=True))
def test_the_planned_walk_names_what_a_plain_walk_names(report: NlaReport20, patterns: list[str]) -> None:
    terms = ReportTypeAgreement.model_validate(
        {
            "type": "nl.nla.schijnzelfstandigheid",
            "versions": ["2.0"],
            "optional_fields": patterns,
            "evidence": {"oordeel": "zwaar_vermoeden", "min_indicatoren": 1},
        }
    )
    check = OptionalFields(terms.field_agreed)
    expected = plain_walk(report, terms.field_agreed)
    assert check.refused(report) == expected
    assert check.refused(report) == expected, "and again from the plans it kept"
