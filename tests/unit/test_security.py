"""Kafka security settings become the same client options everywhere, and are checked at start."""

import ssl
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.kafka.security import client_options
from gateway.settings import load_settings


def test_plaintext_needs_nothing() -> None:
    assert client_options(load_settings()) == {}


def test_sasl_scram_over_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GKT_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("GKT_SASL_USERNAME", "gateway")
    monkeypatch.setenv("GKT_SASL_PASSWORD", "s3cret")
    options = client_options(load_settings())
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("gateway", "s3cret")
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_the_password_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GKT_SASL_PASSWORD", "s3cret")
    settings = load_settings()
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in str(settings.model_dump())


def test_sasl_without_credentials_fails_naming_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GKT_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    with pytest.raises(ConfigError, match="GKT_SASL_USERNAME"):
        client_options(load_settings())


def test_unknown_protocol_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "gkt.toml"
    config.write_text('security_protocol = "KERBEROS"')
    with pytest.raises(ConfigError, match="security_protocol"):
        load_settings(config)
