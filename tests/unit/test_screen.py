"""Stage 4, screen: prohibited attributes anywhere in data, case-insensitive."""

import pytest

from gateway.stages.screen import screen
from tests.helpers import make_rules

# The gateway always runs with its contracts loaded, which declares their field names as ours: paths show
# them unmasked (contracts/masking.py). Loaded here too, so that this file passes on its own.
make_rules()


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


@pytest.mark.parametrize(
    "raw",
    [
        b'{"data":{"geslacht":"x"}}',  # plain
        b'{"data":{"GESLACHT":"x"}}',  # any case
        b'{"data":{"\\u0067eslacht":"x"}}',  # an escape hides it from a byte search
        '{"data":{"ge\u017flacht":"x"}}'.encode(),  # long s: non-ASCII that case-folds to "s"
    ],
)
def test_the_shortcut_over_the_bytes_never_hides_a_prohibited_name(raw: bytes) -> None:
    import json

    data = json.loads(raw)["data"]
    assert [r.code.value for r in screen(data, raw)] == ["PROHIBITED_ATTRIBUTE"]


def test_clean_ascii_bytes_skip_the_walk() -> None:
    from gateway.stages.screen import _surely_clean

    assert _surely_clean(b'{"data":{"functie":"timmerman"}}')
    assert not _surely_clean(b'{"data":{"naam":"Ren\\u00e9"}}'), "an escape: walk"
    assert not _surely_clean('{"data":{"naam":"René"}}'.encode()), "non-ASCII: walk"
    assert not _surely_clean(b'{"data":{"x":"gender studies"}}'), "the word anywhere: walk (it may be a value)"
