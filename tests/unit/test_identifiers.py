"""Every example of spec/contracts.md, and the 11-proof as a property."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.nl import bsn

from validators import (
    is_bsn,
    is_btw_id,
    is_kvk_nummer,
    is_loonheffingennummer,
    is_oin,
    is_rsin,
    is_vestigingsnummer,
    passes_elfproef,
)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("111222333", True),
        ("123456782", True),
        ("111222334", False),
        ("000000000", False),
        ("12345678", False),
        ("1234567820", False),
        ("12345678a", False),
        (" 23456782", False),
        ("123.456.782", False),
        ("１２３４５６７８２", False),
    ],
)
def test_bsn_and_rsin(value: str, valid: bool) -> None:
    assert is_bsn(value) is valid
    assert is_rsin(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("12345678", True),
        ("00000001", True),
        ("00000000", False),
        ("1234567", False),
        ("123456789", False),
        ("1234567a", False),
    ],
)
def test_kvk_nummer(value: str, valid: bool) -> None:
    assert is_kvk_nummer(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("000012345678", True),
        ("000000000000", False),
        ("00001234567", False),
        ("0000123456789", False),
    ],
)
def test_vestigingsnummer(value: str, valid: bool) -> None:
    assert is_vestigingsnummer(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("123456782L01", True),
        ("123456789L01", False),
        ("123456782L00", False),
        ("123456782l01", False),
        ("123456782L1", False),
        ("000000000L01", False),
    ],
)
def test_loonheffingennummer(value: str, valid: bool) -> None:
    assert is_loonheffingennummer(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("NL002455799B11", True),  # mod 97-10, issued since 2020
        ("NL004495445B01", True),  # 11-proof, older numbers
        ("NL123456789B90", False),
        ("NL004495445B00", False),
        ("NL 004495445B01", False),
        ("nl004495445B01", False),
        ("NL004495445b01", False),
    ],
)
def test_btw_id(value: str, valid: bool) -> None:
    assert is_btw_id(value) is valid


@pytest.mark.parametrize(
    ("value", "test_oins", "valid"),
    [
        ("00000099111222333000", True, True),
        ("00000099111222333000", False, False),  # test OINs only when allowed
        ("00000001003214345000", False, True),  # prefix 01: 11-proof + 000
        ("00000001003214346000", False, False),  # 11-proof fails
        ("00000003123456780000", False, True),  # prefix 03: KVK-nummer + 0000
        ("00000003123456781000", False, False),
        ("00000004123456789000", False, True),  # prefix 04: 9 digits + 000, no 11-proof
        ("00000012123456789000", False, False),  # prefix not in the table
        ("0000000112345678200", False, False),  # 19 digits
    ],
)
def test_oin(value: str, test_oins: bool, valid: bool) -> None:
    assert is_oin(value, allow_test_oins=test_oins) is valid


def _elfproef(digits: str) -> bool:
    weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
    return sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11 == 0


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_elfproef_holds_exactly_when_the_formula_does(digits: str) -> None:
    expected = _elfproef(digits) and digits != "000000000"
    assert passes_elfproef(digits) is expected
    assert passes_elfproef(digits) is (bsn.is_valid(digits) and digits != "000000000"), "as python-stdnum has it"


@given(st.text(min_size=0, max_size=12))
def test_anything_but_nine_digits_fails(value: str) -> None:
    if not (len(value) == 9 and value.isascii() and value.isdigit()):
        assert passes_elfproef(value) is False
