"""Definition folders: the working directory's own when it has them, else the packaged samples; always said."""

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.agreement_book import DEFAULT_DIR as PACKAGED_AGREEMENTS
from contracts.reviewer_book import DEFAULT_DIR as PACKAGED_REVIEWERS
from gateway.rules_loader import in_use, in_use_line, load_rules
from gateway.settings import Settings
from routing.policy import DEFAULT_DIR as PACKAGED_POLICIES

AT = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("GKT_AGREEMENTS", "GKT_REVIEWERS", "GKT_TEAMS", "GKT_POLICIES"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_without_folders_of_its_own_the_working_directory_gets_the_samples(elsewhere: Path) -> None:
    settings = Settings()
    assert (settings.agreements, settings.reviewers, settings.policies) == (
        PACKAGED_AGREEMENTS,
        PACKAGED_REVIEWERS,
        PACKAGED_POLICIES,
    )


def test_a_working_directory_with_its_own_agreements_uses_them(elsewhere: Path) -> None:
    own = elsewhere / "contracts" / "agreements"
    shutil.copytree(PACKAGED_AGREEMENTS / "nla", own / "nla")  # one partner only: the samples have two
    settings = Settings()
    assert settings.agreements == own
    assert settings.reviewers == PACKAGED_REVIEWERS, "each folder found on its own"
    rules = load_rules(settings)
    assert rules.agreements.partners() == ["nla"]
    used = in_use(settings, rules, AT)
    assert used["agreements"] == {"folder": str(own), "in_force": {"nla": "2026.1"}}
    assert f"agreements {own} (nla 2026.1)" in in_use_line(settings, rules, AT)


def test_a_folder_given_wins_over_the_working_directory(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (elsewhere / "contracts" / "agreements").mkdir(parents=True)
    monkeypatch.setenv("GKT_AGREEMENTS", str(PACKAGED_AGREEMENTS))
    assert Settings().agreements == PACKAGED_AGREEMENTS


def test_a_partner_without_an_agreement_in_force_is_named_so() -> None:
    rules = load_rules(Settings(agreements=PACKAGED_AGREEMENTS, allow_test_oins=True))
    settings = Settings(agreements=PACKAGED_AGREEMENTS)
    line = in_use_line(settings, rules, datetime(2020, 1, 1, tzinfo=UTC))
    assert "kvk none in force, nla none in force" in line
    assert "reviewers" in line
