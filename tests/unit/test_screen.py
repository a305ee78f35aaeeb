"""Stage 4, screen: prohibited attributes anywhere in data, case-insensitive."""

import pytest

from gateway.stages.screen import screen


@pytest.mark.parametrize(
    "name",
    [
        "nationaliteit",
        "Nationality",
        "ETNICITEIT",
        "countryOfBirth",
        "COUNTRYOFBIRTH",
        "geslacht",
        "Gender",
        "religie",
        "religion",
        "afkomst",
        "geboorteland",
        "ethnicity",
    ],
)
def test_prohibited_names(name: str) -> None:
    reasons = screen({"opdrachtnemers": [{"functie": "x"}, {"functie": "y", name: "z"}]})
    assert [(r.code.value, r.path) for r in reasons] == [("PROHIBITED_ATTRIBUTE", f"/data/opdrachtnemers/1/{name}")]


def test_every_occurrence_is_listed_and_values_are_not_names() -> None:
    data = {"gender": "x", "a": {"b": [{"religie": 1}]}, "toelichting": "nationaliteit"}
    # "a" and "b" are the sender's names, not the contract's: masked (G7).
    assert [r.path for r in screen(data)] == ["/data/gender", "/data/x/x/0/religie"]


def test_clean_data() -> None:
    assert screen({"opdrachtgever": {"naam": "x"}, "list": [1, "gender", None]}) == []
