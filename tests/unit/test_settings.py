"""Settings: flags over environment over TOML file over defaults; errors name the setting."""

import re
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.settings import Settings, load_settings


def test_defaults() -> None:
    settings = load_settings()
    assert settings.topic_prefix == ""
    assert settings.allow_test_oins is False


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gkt.toml"
    config.write_text('topic_prefix = "file."\ngroup_id = "from-file"\nbatch_size = 100\n')
    monkeypatch.setenv("GKT_TOPIC_PREFIX", "env.")
    monkeypatch.setenv("GKT_GROUP_ID", "from-env")
    settings = load_settings(config, topic_prefix="flag.")
    assert settings.topic_prefix == "flag."
    assert settings.group_id == "from-env"
    assert settings.batch_size == 100


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("batch_size = 0", "setting batch_size (GKT_BATCH_SIZE)"),
        ("colour = 1", "gkt.toml: colour: no such setting (gkt.example.toml lists every setting)"),
        ('topic_prefix = "a b"', "setting topic_prefix"),
    ],
)
def test_invalid_settings_name_the_setting(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "gkt.toml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(config)


def test_a_misspelt_setting_in_the_file_names_the_file_and_the_setting_meant(tmp_path: Path) -> None:
    config = tmp_path / "gkt.toml"
    config.write_text("batch_sizes = 5\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value) == f"{config}: batch_sizes: no such setting (did you mean batch_size?)"


def test_a_misspelt_variable_is_refused_not_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """pydantic ignores GKT_ variables it does not know: GKT_IDEMPOTENT_PRODUCERS=true would change nothing."""
    monkeypatch.setenv("GKT_IDEMPOTENT_PRODUCERS", "true")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == (
        "environment variable GKT_IDEMPOTENT_PRODUCERS: no such setting (did you mean GKT_IDEMPOTENT_PRODUCER?)"
    )


def test_variables_of_gkt_that_are_no_settings_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GKT_DEMO_KEYS", "/somewhere")
    assert load_settings().batch_size > 0


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file does not exist"):
        load_settings(tmp_path / "none.toml")


def test_invalid_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GKT_HTTP_PORT", "http")
    with pytest.raises(ConfigError, match="GKT_HTTP_PORT"):
        load_settings()


def test_the_example_config_lists_every_setting_and_loads(tmp_path: Path) -> None:
    """gkt.example.toml names every setting as the TOML file takes it (lower case, no GKT_), and is valid."""
    example = Path(__file__).parents[2] / "gkt.example.toml"
    lines = example.read_text().splitlines()
    named = {match.group(1) for line in lines if (match := re.match(r"# (\w+) = ", line))}
    assert named == set(Settings.model_fields)
    active = tmp_path / "gkt.toml"
    active.write_text("\n".join(line.removeprefix("# ") for line in lines if re.match(r"# \w+ = ", line)) + "\n")
    settings = load_settings(active)
    assert (settings.bootstrap, settings.batch_size) == ("kafka:9092", 500)
