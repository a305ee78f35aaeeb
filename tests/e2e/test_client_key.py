"""The client key (spec/selection.md): made by ``gkt keys client-key``, required by ``gkt run --bootstrap``,
its content never in an error."""

import os
import stat
from pathlib import Path

import pytest

from gateway.cli.run import client_key_for
from gateway.errors import ConfigError
from gateway.rules_loader import load_client_key
from gateway.selection.key import ClientKey
from gateway.settings import Settings
from tests.e2e.conftest import gkt


def test_keys_client_key_writes_a_secret_once(tmp_path: Path) -> None:
    out = tmp_path / "secrets" / "client.key"
    made = gkt("keys", "client-key", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert "GKT_CLIENT_KEY_FILE" in made.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700
    key = load_client_key(Settings(client_key_file=out))
    assert len(key.secret) == 32
    again = gkt("keys", "client-key", "--out", str(out))
    assert again.returncode != 0
    assert "never replaced" in again.stderr
    assert ClientKey.parse(out.read_text()) == key  # untouched
    open_folder = tmp_path / "open"
    open_folder.mkdir(mode=0o755)
    os.chmod(open_folder, 0o755)
    readable = gkt("keys", "client-key", "--out", str(open_folder / "client.key"), "--mode", "0644")
    assert readable.returncode != 0
    assert "chmod 700" in readable.stderr
    assert not (open_folder / "client.key").exists()


def test_without_a_client_key_the_gateway_on_kafka_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"client_key_file \(GKT_CLIENT_KEY_FILE\).*gkt keys client-key"):
        client_key_for(Settings(bootstrap="kafka:9092"))
    assert len(client_key_for(Settings()).secret) == 32  # the embedded broker: an ephemeral one


@pytest.mark.parametrize(
    "content",
    [b"c2hvcnQta2V5", b"\xff\xfe not text", b"secret-words with spaces and more than thirty-two bytes"],
)
def test_a_bad_key_file_is_refused_by_name_never_by_content(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "client.key"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as refused:
        load_client_key(Settings(client_key_file=path))
    assert str(path) in str(refused.value)
    assert content[:8].decode("latin-1") not in str(refused.value)
    missing = tmp_path / "nowhere.key"
    with pytest.raises(ConfigError, match="cannot be read"):
        load_client_key(Settings(client_key_file=missing))


def test_gkt_run_without_a_client_key_says_which_setting(tmp_path: Path) -> None:
    gkt("keys", "new", "--kid", "gw", "--out", str(tmp_path))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GKT_")}
    env |= {"GKT_SIGNING_KEY": str(tmp_path / "gw.pem"), "GKT_SIGNING_KID": "gw"}
    result = gkt("run", "--bootstrap", "127.0.0.1:1", "--http-port", "0", env=env, timeout=60)
    assert result.returncode == 1
    assert "GKT_CLIENT_KEY_FILE" in result.stderr
