"""Well-formedness checks for the identifiers of spec/contracts.md.

Every check takes the string exactly as sent: no stripping of spaces or dots,
no padding. Where python-stdnum implements a checksum we use it (the 11-proof is
written out, and checked against stdnum's in the tests), but only after
our own exact-format test, because stdnum normalises its input first (it strips
separators and zero-pads short numbers), which the spec forbids.

A passing check proves a number is well formed, not that it belongs to anyone.
"""

import operator
import re

from stdnum.nl import btw as _stdnum_btw

_NINE_DIGITS = re.compile(r"[0-9]{9}")
_EIGHT_DIGITS = re.compile(r"[0-9]{8}")
_TWELVE_DIGITS = re.compile(r"[0-9]{12}")
_LOONHEFFINGENNUMMER = re.compile(r"([0-9]{9})L([0-9]{2})")
_BTW_ID = re.compile(r"NL[0-9]{9}B[0-9]{2}")
_ELFPROEF_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_OIN = re.compile(r"000000([0-9]{2})([0-9]{12})")

# Logius OIN prefix table: 01-11 are issuing registers, 99 is for test OINs.
_OIN_PREFIXES = {f"{n:02d}" for n in range(1, 12)}
_TEST_OIN_PREFIX = "99"


def _is_all_zeros(value: str) -> bool:
    return value.strip("0") == ""


def passes_elfproef(nine_digits: str) -> bool:
    """The 11-proof: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11).

    Takes any string; only nine ASCII digits, not all zero, can pass.
    """
    if not _NINE_DIGITS.fullmatch(nine_digits) or _is_all_zeros(nine_digits):
        return False
    # The sum itself, not stdnum.nl.bsn: after the exact-format test above, stdnum's normalising
    # and generic checksum code cost ~10 µs a call, twice per report (BSN, RSIN).
    # tests/unit/test_identifiers.py checks this against stdnum for every nine digits it draws.
    total: int = sum(map(operator.mul, _ELFPROEF_WEIGHTS, map(int, nine_digits)))
    return total % 11 == 0


def is_bsn(value: str) -> bool:
    """Burgerservicenummer: nine digits that pass the 11-proof."""
    return passes_elfproef(value)


def is_rsin(value: str) -> bool:
    """RSIN: the same form and 11-proof as a BSN."""
    return passes_elfproef(value)


def is_kvk_nummer(value: str) -> bool:
    """KVK-nummer: eight digits, not all zero (no check digit exists)."""
    return bool(_EIGHT_DIGITS.fullmatch(value)) and not _is_all_zeros(value)


def is_vestigingsnummer(value: str) -> bool:
    """Vestigingsnummer: twelve digits, not all zero (no check digit exists)."""
    return bool(_TWELVE_DIGITS.fullmatch(value)) and not _is_all_zeros(value)


def is_loonheffingennummer(value: str) -> bool:
    """Loonheffingennummer: nine digits passing the 11-proof, ``L``, two digits not ``00``."""
    match = _LOONHEFFINGENNUMMER.fullmatch(value)
    if match is None:
        return False
    number, suffix = match.groups()
    return passes_elfproef(number) and suffix != "00"


def is_btw_id(value: str) -> bool:
    """Btw-identificatienummer: ``NL`` + 9 digits + ``B`` + 2 digits.

    Valid when the nine digits pass the 11-proof (older numbers) or the whole
    number passes ISO 7064 mod 97-10 (numbers issued since 2020); stdnum checks both.
    """
    if not _BTW_ID.fullmatch(value):
        return False
    return bool(_stdnum_btw.is_valid(value))


def is_test_oin(value: str) -> bool:
    """A test OIN (prefix 99): valid only where test OINs are allowed (demo and tests)."""
    return is_oin(value, allow_test_oins=True) and not is_oin(value, allow_test_oins=False)


def is_oin(value: str, *, allow_test_oins: bool) -> bool:
    """Organisatie-identificatienummer per the Logius OIN table (spec/contracts.md).

    Prefixes 01, 02, 04: a 9-digit number + ``000`` (01 and 02 also pass the
    11-proof); 03: an 8-digit KVK-nummer + ``0000``; 99 (test OINs) only when
    allowed. Other prefixes of the table (05-11) carry a number we cannot check
    further than its zero suffix, which follows the same 9 + ``000`` shape.
    """
    match = _OIN.fullmatch(value)
    if match is None:
        return False
    prefix, rest = match.groups()
    if prefix == _TEST_OIN_PREFIX:
        return allow_test_oins and rest.endswith("000") and not _is_all_zeros(rest)
    if prefix not in _OIN_PREFIXES:
        return False
    if prefix == "03":
        return rest.endswith("0000") and is_kvk_nummer(rest[:8])
    main, suffix = rest[:9], rest[9:]
    if suffix != "000" or _is_all_zeros(main):
        return False
    if prefix in {"01", "02"}:
        return passes_elfproef(main)
    return True
