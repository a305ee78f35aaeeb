"""What a partner types from docs/partners.md: a sample dated now, pinned gateway keys, and what publish says
when Kafka does not answer."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.registry import ContractRegistry
from gateway.demo import samples as s
from gateway.kafka.embedded import free_port
from gateway.keyset import KeySet
from gateway.signing import Signer
from tests.e2e.conftest import gkt

VERSIONS = [(c.type, c.version) for c in ContractRegistry.discover()]


@pytest.mark.parametrize(("report_type", "version"), VERSIONS, ids=[f"{t}:{v}" for t, v in VERSIONS])
def test_a_sample_of_every_contract_version_is_routed_now(report_type: str, version: str, tmp_path: Path) -> None:
    made = gkt("sample", f"{report_type}:{version}")
    assert made.returncode == 0, made.stderr
    event = json.loads(made.stdout)
    assert (event["type"], event["dataschema"]) == (report_type, f"urn:gkt:contract:{report_type}:{version}")
    sent = datetime.fromisoformat(event["time"])
    assert abs((datetime.now(UTC) - sent).total_seconds()) < 60  # dated now, so never EVENT_STALE
    path = tmp_path / "event.json"
    path.write_text(made.stdout)
    partner, kid = ("kvk", "kvk-2025-01") if report_type == s.KVK_TYPE else ("nla", "nla-2025-01")
    checked = gkt(
        "check", str(path), "--partner", partner, "--key", str(s.keys_dir() / f"{kid}.pem"), "--kid", kid,
        "--reference", str(s.REFERENCE_FILE), "--allow-test-oins",
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["outcome"] == "routed"
    # Two samples are two reports: each has an id of its own.
    assert json.loads(gkt("sample", f"{report_type}:{version}").stdout)["id"] != event["id"]


def test_sample_takes_your_source_and_id_and_refuses_what_cannot_be_sent() -> None:
    made = gkt("sample", "nl.nla.schijnzelfstandigheid:1.1", "--source", "urn:nld:oin:00000001003214345000",
               "--id", "uwv-2026-1")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert {k: json.loads(made.stdout)[k] for k in ("source", "id")} == {
        "source": "urn:nld:oin:00000001003214345000",
        "id": "uwv-2026-1",
    }
    unknown = gkt("sample", "nl.nla.schijnzelfstandigheid:9.0")
    assert unknown.returncode == 2
    assert "no such contract version; one of nl.nla.schijnzelfstandigheid:1.0" in unknown.stderr
    assert gkt("sample", "nl.nla.schijnzelfstandigheid:1.0", "--id", "has space").returncode == 2
    assert gkt("sample", "nl.nla.schijnzelfstandigheid:1.0", "--source", "oin:1").returncode == 2


def test_keys_fetch_from_a_file_writes_only_a_fully_pinned_set(tmp_path: Path) -> None:
    genuine, planted = Signer.generate("gw-1"), Signer.generate("gw-2")
    published = tmp_path / "published.json"
    published.write_text(json.dumps(KeySet.of(genuine).as_jwks()))
    out = tmp_path / "gateway-keys.json"
    pin = genuine.key.thumbprint()
    fetched = gkt("keys", "fetch", str(published), "--pin", pin, "--out", str(out))
    assert fetched.returncode == 0, fetched.stderr
    assert [k.thumbprint for k in KeySet.load(out)] == [pin]

    out.unlink()
    published.write_text(json.dumps(KeySet.of(genuine, planted).as_jwks()))
    refused = gkt("keys", "fetch", str(published), "--pin", pin, "--out", str(out))
    assert refused.returncode == 1
    assert f"key 2 ({planted.key.thumbprint()}) of the key set fetched is not pinned" in refused.stderr
    assert not out.exists()
    assert gkt("keys", "fetch", str(tmp_path / "nope.json"), "--pin", pin, "--out", str(out)).returncode == 2
    down = gkt("keys", "fetch", f"http://127.0.0.1:{free_port()}/.well-known/jwks.json", "--pin", pin, "--out",
               str(out))  # fmt: skip
    assert down.returncode == 1
    assert "cannot fetch" in down.stderr
    assert "nothing written" in down.stderr
    assert not out.exists()


def test_publish_when_kafka_does_not_answer_says_nothing_was_sent(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(gkt("sample", "nl.nla.schijnzelfstandigheid:1.0").stdout)
    result = gkt(
        "publish", str(event), "--partner", "nla", "--key", str(s.keys_dir() / "nla-2025-01.pem"),
        "--kid", "nla-2025-01", "--bootstrap", f"127.0.0.1:{free_port()}",
    )  # fmt: skip
    assert result.returncode == 3
    [line] = result.stderr.strip().splitlines()  # our one line, not aiokafka's as well
    assert "cannot reach Kafka at 127.0.0.1:" in line
    assert "nothing was sent. Run the same command again" in line
