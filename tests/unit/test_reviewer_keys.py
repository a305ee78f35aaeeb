"""One key, one reviewer (spec/review.md): a reviewers file where one person could give both verdicts does not load."""

import re
from pathlib import Path

import pytest

from contracts.errors import DefinitionError
from contracts.reviewer_book import ReviewerBook
from gateway.errors import ConfigError
from gateway.rules_loader import load_rules, load_signer
from gateway.settings import Settings

SAMPLE = Path(__file__).parents[2] / "contracts" / "reviewers" / "2025.1.toml"
KEYS = Path(__file__).parents[1] / "fixtures" / "demo-keys"
R1_KEY = "MCowBQYDK2VwAyEAvVimDLk5pQImb/Csn4ohW35xs6lgAY7gHweDEYU0Gm0="
R2_KEY = "MCowBQYDK2VwAyEAqHr57uMW3SCtNaqAYN+C85d9N2Yu3Wgm8k872Tk9Jwo="


def reviewers(tmp_path: Path, text: str) -> Path:
    (tmp_path / "2025.1.toml").write_text(text)
    return tmp_path


def test_one_public_key_under_two_reviewer_ids_does_not_load(tmp_path: Path) -> None:
    # The same key, spelled with other line breaks: still one key.
    spelled = SAMPLE.read_text().replace(R2_KEY, R1_KEY[:40] + "\n" + R1_KEY[40:])
    with pytest.raises(DefinitionError) as refused:
        ReviewerBook.load(reviewers(tmp_path, spelled))
    message = str(refused.value)
    assert message.startswith(str(tmp_path / "2025.1.toml"))
    assert "reviewers[0] (r-0001, kid r-0001-2025) and reviewers[1] (r-0002, kid r-0002-2025)" in message
    assert message.endswith("hold the same public key")
    assert "\n" not in message


def test_a_reviewer_holding_a_partners_key_does_not_load(tmp_path: Path) -> None:
    partner_pem = (KEYS / "nla-2025-01.pub.pem").read_text()
    partner_key = re.search(r"-----BEGIN PUBLIC KEY-----\n(.*?)\n-----END", partner_pem, re.S)
    assert partner_key
    text = SAMPLE.read_text().replace(R2_KEY, partner_key.group(1).replace("\n", ""))
    settings = Settings(reviewers=reviewers(tmp_path, text), allow_test_oins=True)
    with pytest.raises(ConfigError, match=r"r-0002 \(kid r-0002-2025\) is a key of partner nla"):
        load_rules(settings)


def test_the_gateways_key_is_no_reviewers(tmp_path: Path) -> None:
    gateway_pem = (KEYS / "r-0001-2025.pem").resolve()  # an operator who took a reviewer's key as the gateway's
    settings = Settings(reviewers=SAMPLE.parent, signing_key=gateway_pem, signing_kid="gw-1")
    with pytest.raises(ConfigError, match=r"r-0001 \(kid r-0001-2025\) is the gateway's signing key"):
        load_signer(settings, load_rules(settings).reviewers)


def test_a_deeply_nested_definition_file_is_one_line(tmp_path: Path) -> None:
    deep = reviewers(tmp_path, "x = " + "[" * 20_000 + "]" * 20_000 + "\n")
    with pytest.raises(DefinitionError) as refused:
        ReviewerBook.load(deep)
    assert str(refused.value) == f"{tmp_path / '2025.1.toml'}: nested too deeply to be a definition file"


def test_a_deeply_nested_policy_or_config_file_is_one_line(tmp_path: Path) -> None:
    from gateway.settings import load_settings
    from routing.errors import RoutingDataError
    from routing.policy import PolicyBook

    deep = "x = " + "[" * 20_000 + "]" * 20_000 + "\n"
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "1.toml").write_text(deep)
    with pytest.raises(RoutingDataError, match="nested too deeply to be a policy file"):
        PolicyBook.load(tmp_path / "policy")
    (tmp_path / "gkt.toml").write_text(deep)
    with pytest.raises(ConfigError, match=r"gkt\.toml: nested too deeply to be a config file"):
        load_settings(tmp_path / "gkt.toml")
