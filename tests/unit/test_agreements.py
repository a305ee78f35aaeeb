"""Working agreements: loading checks, versions in force, fields, evidence, sunset."""

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.agreement_book import DEFAULT_DIR, AgreementBook
from contracts.errors import DefinitionError
from contracts.registry import ContractRegistry
from gateway.types import PartnerId

REGISTRY = ContractRegistry.discover()


@pytest.fixture
def agreements(tmp_path: Path) -> Path:
    target = tmp_path / "agreements"
    shutil.copytree(DEFAULT_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def load_error(directory: Path) -> str:
    with pytest.raises(DefinitionError) as caught:
        AgreementBook.load(directory, REGISTRY)
    return str(caught.value)


def test_sample_agreements_load() -> None:
    book = AgreementBook.load(DEFAULT_DIR, REGISTRY)
    assert book.partners() == ["kvk", "nla"]
    nla = book.version(PartnerId("nla"), "2025.1")
    assert nla is not None
    assert nla.ref.startswith("nla:2025.1:sha256:")


def test_version_in_force_by_interval(agreements: Path) -> None:
    book = AgreementBook.load(agreements, REGISTRY)
    kvk = PartnerId("kvk")
    pilot = book.in_force(kvk, datetime(2025, 2, 28, 22, 59, 59, tzinfo=UTC))
    after = book.in_force(kvk, datetime(2025, 2, 28, 23, 0, tzinfo=UTC))  # until is exclusive (01:00+01:00)
    assert pilot is not None
    assert pilot.version == "2025.1"
    assert after is not None
    assert after.version == "2025.2"
    assert book.in_force(kvk, datetime(2024, 12, 31, tzinfo=UTC)) is None
    governing = book.governing(kvk, datetime(2024, 12, 31, tzinfo=UTC))
    assert governing is not None
    assert governing.version == "2025.1"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('legal_basis = "art. 64 Wet SUWI"\n', "", "nla/2025.1.toml: legal_basis: Field required"),
        ("max_event_age_days = 30", "max_event_age_days = 30\ncolour = 1", "nla/2025.1.toml: colour: Extra inputs"),
        (
            'alg = "EdDSA"\npublic_key = "-----BEGIN',
            'alg = "ES256"\npublic_key = "-----BEGIN',
            "nla/2025.1.toml: keys.0.public_key: not a ES256 public key in PEM form",
        ),
        (
            'public_key = "-----BEGIN PUBLIC KEY-----\\nMC',
            'public_key = "-----BEGIN PUBLIC KEY-----\\nXX',
            "nla/2025.1.toml: keys.0.public_key: not a EdDSA public key in PEM form",
        ),
        (
            'versions = ["1.0"]',
            'versions = ["1.0", "7.0"]',
            "nla/2025.1.toml: report_types.0.versions: nl.nla.schijnzelfstandigheid has no version '7.0'",
        ),
        (
            'type = "nl.nla.schijnzelfstandigheid"',
            'type = "nl.nla.iets"',
            "nla/2025.1.toml: report_types.0.type: unknown report type 'nl.nla.iets'",
        ),
        ('"/kwaadwillendheid",', '"kwaadwillendheid",', "nla/2025.1.toml: report_types.0.optional_fields.6"),
        ('partner = "nla"', 'partner = "kvk"', "nla/2025.1.toml: partner: 'kvk' does not match folder 'nla'"),
        ('version = "2025.1"', 'version = "2025.9"', "nla/2025.1.toml: version: '2025.9' does not match file name"),
        (
            "in_force = { from = 2025-01-01T00:00:00+01:00,",
            "in_force = { from = 2025-01-01T00:00:00,",
            "nla/2025.1.toml: in_force.from: Input should have timezone info",
        ),
        ("max_event_age_days = 30", "max_event_age_days = 30 30", "nla/2025.1.toml: not valid TOML"),
    ],
)
def test_loading_errors_name_file_and_field(agreements: Path, old: str, new: str, message: str) -> None:
    edit(agreements / "nla" / "2025.1.toml", old, new)
    assert message in load_error(agreements)


def test_overlapping_versions_fail(agreements: Path) -> None:
    edit(agreements / "kvk" / "2025.2.toml", "from = 2025-03-01T00:00:00+01:00", "from = 2025-02-01T00:00:00+01:00")
    assert "kvk/2025.2.toml: in_force: overlaps version 2025.1" in load_error(agreements)


def test_open_ended_version_before_another_overlaps(agreements: Path) -> None:
    edit(agreements / "kvk" / "2025.1.toml", ", until = 2025-03-01T00:00:00+01:00", "")
    assert "overlaps version 2025.1" in load_error(agreements)


def test_missing_directory(tmp_path: Path) -> None:
    assert "agreements directory does not exist" in load_error(tmp_path / "nope")


def test_field_patterns() -> None:
    book = AgreementBook.load(DEFAULT_DIR, REGISTRY)
    nla = book.version(PartnerId("nla"), "2025.1")
    assert nla is not None
    terms = nla.report_type("nl.nla.schijnzelfstandigheid")
    assert terms is not None
    assert terms.field_agreed(("opdrachtnemers", 3, "bsn"))
    assert not terms.field_agreed(("opdrachtnemers", "x", "bsn"))
    assert not terms.field_agreed(("opdrachtgever", "btwId"))
    assert terms.field_agreed(("kwaadwillendheid",))
    assert not terms.field_agreed(("toelichting",))


def test_naming_an_object_agrees_everything_inside(agreements: Path) -> None:
    book = AgreementBook.load(agreements, REGISTRY)
    nla = book.version(PartnerId("nla"), "2025.1")
    assert nla is not None
    terms = nla.report_type("nl.nla.schijnzelfstandigheid")
    assert terms is not None
    patched = terms.model_copy(update={"optional_fields": ["/intermediair"]})
    assert patched.field_agreed(("intermediair",))
    assert patched.field_agreed(("intermediair", "kvkNummer"))
    assert not patched.field_agreed(("intermediairs",))


def test_inspect_lists_every_error_of_every_file(agreements: Path) -> None:
    # Two wrong fields in one file, one in another, and an overlap between two files that load.
    edit(agreements / "nla" / "2025.1.toml", 'legal_basis = "art. 64 Wet SUWI"\n', "")
    edit(agreements / "nla" / "2025.1.toml", "max_event_age_days = 30", "max_event_age_days = 0")
    edit(agreements / "nla" / "2026.1.toml", 'type = "nl.nla.schijnzelfstandigheid"', 'type = "nl.nla.iets"')
    edit(agreements / "kvk" / "2025.2.toml", "from = 2025-03-01T00:00:00+01:00", "from = 2025-02-01T00:00:00+01:00")
    book, errors = AgreementBook.inspect(agreements, REGISTRY)
    found = {(p.file.relative_to(agreements).as_posix(), p.field) for p in errors}
    assert found == {
        ("nla/2025.1.toml", "legal_basis"),
        ("nla/2025.1.toml", "max_event_age_days"),
        ("nla/2026.1.toml", "report_types.0.type"),
        ("kvk/2025.2.toml", "in_force"),
    }
    assert {p.severity for p in errors} == {"error"}
    # The files that load are still there (their warnings are still worth showing).
    assert [a.version for a in book] == ["2025.1", "2025.2"]
    # The gateway's start names the first and counts the rest.
    assert load_error(agreements).endswith("(and 3 more problems)")


def test_warnings_test_oin_shared_oin_and_no_key_now(agreements: Path) -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    book, errors = AgreementBook.inspect(agreements, REGISTRY)
    assert errors == []
    # The samples use test OINs, one per partner: a warning per file, nothing shared.
    assert {(p.field, p.severity) for p in book.warnings(agreements, now)} == {("oin", "warning")}
    assert all("test OIN" in p.message for p in book.warnings(agreements, now))

    edit(agreements / "kvk" / "2025.1.toml", 'oin = "00000099444555666000"', 'oin = "00000001003214345000"')
    edit(agreements / "kvk" / "2025.2.toml", 'oin = "00000099444555666000"', 'oin = "00000099111222333000"')
    edit(agreements / "kvk" / "2025.2.toml", "not_before = 2025-01-01T00:00:00Z", "not_before = 2027-01-01T00:00:00Z")
    book, errors = AgreementBook.inspect(agreements, REGISTRY)
    assert errors == []
    messages = {(p.file.relative_to(agreements).as_posix(), p.field, p.message) for p in book.warnings(agreements, now)}
    assert ("kvk", "oin", "OIN 00000099111222333000 is also the OIN of nla: each partner has an OIN of its own") in (
        messages
    )
    assert ("nla", "oin", "OIN 00000099111222333000 is also the OIN of kvk: each partner has an OIN of its own") in (
        messages
    )
    assert ("kvk/2025.2.toml", "keys", "in force now, but no key is valid now") in messages
    # A real OIN (prefix 01, 11-proof) draws no OIN warning; a mistyped one does.
    assert not any(f == "kvk/2025.1.toml" and field == "oin" for f, field, _ in messages)
    edit(agreements / "kvk" / "2025.1.toml", 'oin = "00000001003214345000"', 'oin = "00000001003214345001"')
    book, _ = AgreementBook.inspect(agreements, REGISTRY)
    assert any(p.file.name == "2025.1.toml" and "not an OIN" in p.message for p in book.warnings(agreements, now))


def test_forward_takes_pointer_patterns_and_names_the_texts_it_lets_through(agreements: Path) -> None:
    book = AgreementBook.load(agreements, REGISTRY)
    terms = book.version(PartnerId("nla"), "2026.1").report_type("nl.nla.schijnzelfstandigheid")  # type: ignore[union-attr]
    assert terms is not None
    assert terms.forwarded(("indicatoren", 3, "toelichting"))
    assert terms.forwarded(("toelichting",))
    assert not terms.forwarded(("opdrachtgever", "naam"))
    kvk = book.version(PartnerId("kvk"), "2025.2").report_type("nl.kvk.inschrijvingssignaal")  # type: ignore[union-attr]
    assert kvk is not None
    assert not kvk.forwarded(("toelichting",))  # default: nothing
    edit(agreements / "nla" / "2026.1.toml", 'forward = ["/indicatoren/*/toelichting"', 'forward = ["toelichting"')
    assert "nla/2026.1.toml: report_types.0.forward.0: 'toelichting' is not a JSON pointer pattern" in load_error(
        agreements
    )
