"""The other ``gkt`` commands, run as processes: keys, topics, broker, run, publish, demo."""

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from contracts.agreement_book import DEFAULT_DIR as DEFAULT_AGREEMENTS
from contracts.agreement_book import AgreementBook
from contracts.registry import ContractRegistry
from gateway.demo import samples as s
from gateway.kafka.embedded import answers_kafka, free_port
from gateway.signing import Signer
from tests.e2e.conftest import GKT, gkt
from tests.helpers import client_key_file, now

pytestmark = pytest.mark.kafka


def test_every_console_script_target_imports() -> None:
    scripts = [e for e in entry_points(group="console_scripts") if e.value.startswith("gateway.")]
    assert [e.name for e in scripts] == ["gkt"]
    for script in scripts:
        assert callable(script.load())


def test_every_command_has_help_with_an_example() -> None:
    for command in (
        ["demo"],
        ["run"],
        ["broker"],
        ["topics", "create"],
        ["keys", "new"],
        ["keys", "show"],
        ["sign"],
        ["publish"],
        ["receipt"],
        ["sample"],
        ["keys", "fetch"],
        ["agreements", "check"],
        ["check"],
    ):
        result = gkt(*command, "--help")
        assert result.returncode == 0, command
        assert "Example" in result.stdout, command


def test_keys_new_writes_a_private_key_only_the_owner_reads(tmp_path: Path) -> None:
    result = gkt("keys", "new", "--kid", "nla-2026-01", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    private = tmp_path / "nla-2026-01.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert (tmp_path / "nla-2026-01.pub.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    jwk = json.loads((tmp_path / "nla-2026-01.jwk.json").read_text())
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert jwk["kid"] == "nla-2026-01"
    assert "d" not in jwk
    again = gkt("keys", "new", "--kid", "nla-2026-01", "--out", str(tmp_path))
    assert again.returncode == 2
    assert "exists already" in again.stderr


def test_keys_new_writes_the_agreement_entry_that_the_agreement_loader_takes(tmp_path: Path) -> None:
    """No PEM turned into a \\n string by hand: the entry is pasted into the agreement as it is."""
    result = gkt("keys", "new", "--kid", "nla-2027-01", "--out", str(tmp_path / "keys"))
    assert result.returncode == 0, result.stderr
    entry = tmp_path / "keys" / "nla-2027-01.agreement.toml"
    assert f"wrote {entry}" in result.stdout
    sample = (DEFAULT_AGREEMENTS / "nla" / "2026.1.toml").read_text()
    folder = tmp_path / "agreements" / "nla"
    folder.mkdir(parents=True)
    header, *tables = re.split(r"(?m)^(?=\[)", sample)  # the sample's own keys out, the new entry in
    others = "".join(table for table in tables if not table.startswith("[[keys]]"))
    (folder / "2026.1.toml").write_text(header + entry.read_text() + others)
    book = AgreementBook.load(tmp_path / "agreements", ContractRegistry.discover())
    (key,) = next(iter(book)).keys
    assert key.kid == "nla-2027-01"
    assert key.fingerprint == Signer.from_pem_file(tmp_path / "keys" / "nla-2027-01.pem", "x").public_der


def test_keys_show_prints_the_gateways_jwk_set(tmp_path: Path) -> None:
    gkt("keys", "new", "--kid", "gw-1", "--out", str(tmp_path))
    env = {**os.environ, "GKT_SIGNING_KEY": str(tmp_path / "gw-1.pem"), "GKT_SIGNING_KID": "gw-1"}
    result = gkt("keys", "show", env=env)
    assert result.returncode == 0, result.stderr
    keys = json.loads(result.stdout)["keys"]
    assert [(k["kid"], k["alg"], "d" in k) for k in keys] == [("gw-1", "EdDSA", False)]
    missing = gkt("keys", "show", env={k: v for k, v in os.environ.items() if not k.startswith("GKT_")})
    assert missing.returncode == 1
    assert "GKT_SIGNING_KEY" in missing.stderr


def test_topics_create_is_idempotent(kafka: str, prefix: str) -> None:
    first = gkt("topics", "create", "--bootstrap", kafka, "--topic-prefix", prefix, "--partitions", "2")
    assert first.returncode == 0, first.stderr
    names = {line.split()[1] for line in first.stdout.splitlines()}
    assert {
        f"{prefix}gkt.in.nla",
        f"{prefix}gkt.feedback.kvk",
        f"{prefix}gkt.audit",
        f"{prefix}bd.detectie.go",
        f"{prefix}bd.ref.opdrachtgevers",
        f"{prefix}gkt.deadletter",
        f"{prefix}gkt.quarantine",
    } <= names
    assert all(line.startswith("created") for line in first.stdout.splitlines())
    second = gkt("topics", "create", "--bootstrap", kafka, "--topic-prefix", prefix, "--partitions", "6")
    assert all(line.startswith("exists") for line in second.stdout.splitlines())
    # The real count, not the one asked for: an existing topic keeps its partitions.
    assert f"exists   {prefix}gkt.in.nla  (2 partitions; asked for 6, kept as it is)" in second.stdout
    assert f"exists   {prefix}gkt.deadletter  (1 partition)" in second.stdout


def test_broker_runs_in_the_foreground_and_stops() -> None:
    port = free_port()
    process = subprocess.Popen([str(GKT), "broker", "--port", str(port)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if answers_kafka("127.0.0.1", port):
                break
            time.sleep(0.05)
        assert answers_kafka("127.0.0.1", port)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert not answers_kafka("127.0.0.1", port)


def test_demo_shows_every_sample_and_exits_0() -> None:
    result = gkt("demo", timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all 26 samples and 9 review steps got their expected outcome" in result.stdout
    assert "audit log verified with the witness" in result.stdout
    assert re.search(r"witness\.demo\.example cosigned the checkpoints of [1-9]\d* chains .*; refused 0", result.stdout)
    assert " NO " not in result.stdout
    flat = " ".join(result.stdout.split())  # rich wraps long lines at the terminal's width
    assert "the second report about a client (KVK, after the NLA report released above) arrived with 1 earlier" in flat
    assert "feedback from detection teams on bd.terugkoppeling" in flat
    assert "Feedback: signals per partner that reached each" in flat  # the quarter's figures, as gkt report
    for code in ("REFERENCE_UNKNOWN", "EVENT_TOO_LARGE", "DUPLICATE", "EVIDENCE_INSUFFICIENT", "VERDICT_REPEATED"):
        assert code in result.stdout
    for outcome in ("pending", "released", "discarded"):
        assert f"{outcome}" in result.stdout


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def test_run_serves_health_and_metrics_and_publish_gets_a_receipt(kafka: str, prefix: str, tmp_path: Path) -> None:
    """A partner's whole way, as docs/partners.md tells it: a record sent while the gateway is down is not lost
    and not re-sent, its receipt is fetched later; the gateway's keys are fetched from /.well-known/jwks.json
    and pinned by thumbprint; every receipt verifies with them."""
    gkt("keys", "new", "--kid", "gw-run-1", "--out", str(tmp_path))
    port = free_port()
    env = {
        **os.environ,
        "GKT_SIGNING_KEY": str(tmp_path / "gw-run-1.pem"),
        "GKT_SIGNING_KID": "gw-run-1",
        "GKT_CLIENT_KEY_FILE": client_key_file(tmp_path),
        "GKT_SESSION_TIMEOUT_MS": "2000",
        "GKT_HEARTBEAT_INTERVAL_MS": "300",
        "GKT_REFERENCE": str(s.REFERENCE_FILE),
        "GKT_GROUP_ID": f"{prefix}gw",
    }
    where = ("--bootstrap", kafka, "--topic-prefix", prefix)
    partner_key = ("--partner", "nla", "--key", str(s.keys_dir() / "nla-2025-01.pem"), "--kid", "nla-2025-01")
    assert gkt("topics", "create", *where).returncode == 0
    early = tmp_path / "early.json"
    early_id = "nla-sent-while-down"
    early.write_bytes(s.encode(s.event(s.nla_report(), time=now(), event_id=early_id)))
    unanswered = gkt("publish", str(early), *partner_key, *where, "--timeout", "2")
    assert unanswered.returncode == 4, unanswered.stderr
    assert re.search(rf"written \({re.escape(prefix)}gkt\.in\.nla partition \d+, offset 0\)", unanswered.stderr)
    assert "Do not send it again with a new id" in unanswered.stderr
    assert f"gkt receipt --partner nla --id {early_id}" in unanswered.stderr
    assert gkt("receipt", "--partner", "nla", "--id", early_id, *where, "--timeout", "10").returncode == 1
    thumbprint = gkt("keys", "show", "--thumbprints", env=env).stdout.split()
    assert thumbprint[0] == "gw-run-1"
    process = subprocess.Popen(
        [str(GKT), "run", *where, "--http-port", str(port), "--allow-test-oins"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _get(f"http://127.0.0.1:{port}/readyz")[0] != 200:
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "gateway never became ready"
            time.sleep(0.1)
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")
        jwks_url = f"http://127.0.0.1:{port}/.well-known/jwks.json"
        jwks = tmp_path / "gateway-keys.json"
        other = Signer.generate("someone-else").key.thumbprint()
        refused = gkt("keys", "fetch", jwks_url, "--pin", other, "--out", str(jwks))
        assert refused.returncode == 1
        assert f"key 1 ({thumbprint[1]}) of the key set fetched is not pinned: nothing written" in refused.stderr
        assert not jwks.exists()
        fetched = gkt("keys", "fetch", jwks_url, "--pin", thumbprint[1], "--out", str(jwks))
        assert fetched.returncode == 0, fetched.stderr
        assert f"pinned {thumbprint[1]} (kid gw-run-1)" in fetched.stdout

        deadline = time.monotonic() + 30
        while (later := gkt("receipt", "--partner", "nla", "--id", early_id, "--keys", str(jwks), *where)).returncode:
            assert time.monotonic() < deadline, later.stderr
            time.sleep(0.5)
        [first] = json.loads(later.stdout)["receipts"]
        assert (first["receipt"]["outcome"], first["signature_verified"]) == ("accepted", True)

        event = tmp_path / "event.json"
        event.write_bytes(s.encode(s.event(s.nla_report(), time=now())))
        published = gkt("publish", str(event), *partner_key, *where, "--timeout", "60", "--keys", str(jwks))
        assert published.returncode == 0, published.stderr
        printed = json.loads(published.stdout)
        assert printed["signature_verified"] is True  # the partner's proof of delivery, checked
        assert printed["signature"].count(".") == 2
        receipt = printed["receipt"]
        assert receipt["outcome"] == "accepted"
        event_id = json.loads(event.read_bytes())["id"]
        assert receipt["id"] == event_id
        retried = gkt(*published.args[1:])  # the same event again, as a partner retries after a timeout
        assert retried.returncode == 0, "a duplicate needs no action: the first decision stands"
        assert json.loads(retried.stdout)["receipt"]["outcome"] == "duplicate"
        both = gkt("receipt", "--partner", "nla", "--id", event_id, "--keys", str(jwks), *where)
        assert both.returncode == 0, both.stderr
        receipts = json.loads(both.stdout)["receipts"]
        assert [(r["receipt"]["outcome"], r["signature_verified"]) for r in receipts] == [
            ("accepted", True),
            ("duplicate", True),
        ]
        assert receipts[0] == printed
        status, metrics = _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert 'gkt_decisions_total{outcome="routed",partner="nla"} 2.0' in metrics
        assert 'gkt_decisions_total{outcome="duplicate",partner="nla"} 1.0' in metrics
        assert "gkt_consumer_lag{partition=" in metrics
        for stage in ("read", "authenticate", "deduplicate"):  # the retry ends at the duplicate check
            assert f'gkt_stage_seconds_count{{stage="{stage}"}} 3.0' in metrics
        for stage in ("screen", "contract", "agreement", "route"):
            assert f'gkt_stage_seconds_count{{stage="{stage}"}} 2.0' in metrics
        assert "gkt_audit_chain_seq{chain=" in metrics
        assert "gkt_reference_records" in metrics
        assert _get(f"http://127.0.0.1:{port}/nope")[0] == 404
    finally:
        process.send_signal(signal.SIGTERM)
        _, logs = process.communicate(timeout=30)
    assert process.returncode == 0
    assert '"event": "stopped"' in logs
    assert "123456782" not in logs  # no BSN in the service's logs
    assert "De Vries" not in logs


def test_run_refuses_to_start_without_its_key(kafka: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GKT_")}
    result = gkt("run", "--bootstrap", kafka, env=env)
    assert result.returncode == 1
    assert "GKT_SIGNING_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_keys_show_keeps_retired_gateway_keys(tmp_path: Path) -> None:
    from gateway.keyset import GatewayKey, KeySet
    from gateway.signing import Signer

    old = Signer.generate("gw-2025")
    retired = KeySet([GatewayKey(old.kid, old.key, not_after=datetime(2026, 1, 1, tzinfo=UTC))])
    (tmp_path / "gateway-keys.json").write_text(json.dumps(retired.as_jwks()))
    gkt("keys", "new", "--kid", "gw-2026", "--out", str(tmp_path))
    env = {
        **os.environ,
        "GKT_SIGNING_KEY": str(tmp_path / "gw-2026.pem"),
        "GKT_SIGNING_KID": "gw-2026",
        "GKT_GATEWAY_KEYS": str(tmp_path / "gateway-keys.json"),
    }
    result = gkt("keys", "show", env=env)
    assert result.returncode == 0, result.stderr
    keys = {k["kid"]: k for k in json.loads(result.stdout)["keys"]}
    assert set(keys) == {"gw-2025", "gw-2026"}
    assert keys["gw-2025"]["not_after"] == "2026-01-01T00:00:00+00:00"
    assert "not_after" not in keys["gw-2026"]


def test_reference_load_checks_every_line_then_publishes_and_show_reads_it(
    kafka: str, prefix: str, tmp_path: Path
) -> None:
    where = ("--bootstrap", kafka, "--topic-prefix", prefix)
    assert gkt("topics", "create", *where).returncode == 0
    bad = tmp_path / "bad.jsonl"
    good_line = json.dumps({"kvkNummer": "81234567", "segment": "mkb", "horizontaalToezichtLoonheffingen": False})
    bad.write_text(good_line + "\n" + '{"kvkNummer": "1"}\n')
    refused = gkt("reference", "load", str(bad), *where)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"gkt: {bad}:2: not a valid reference record: kvkNummer: not a valid KVK-nummer (8 digits)"
    ]
    assert gkt("reference", "show", "81234567", *where).returncode == 1  # nothing of the bad file was published

    loaded = gkt("reference", "load", str(s.REFERENCE_FILE), *where)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == f"loaded 6 records into {prefix}bd.ref.opdrachtgevers"
    shown = gkt("reference", "show", s.KNOWN_CLIENT_HT, *where)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "kvkNummer": s.KNOWN_CLIENT_HT, "segment": "mkb", "horizontaalToezichtLoonheffingen": True,
        "htNiveau": "fiscaliteit",
    }  # fmt: skip


def test_version_and_a_busy_http_port(kafka: str, prefix: str, tmp_path: Path) -> None:
    version = gkt("--version")
    assert (version.returncode, version.stdout.startswith("gkt ")) == (0, True)
    gkt("keys", "new", "--kid", "gw-port", "--out", str(tmp_path))
    env = {**os.environ, "GKT_SIGNING_KEY": str(tmp_path / "gw-port.pem"), "GKT_SIGNING_KID": "gw-port",
           "GKT_CLIENT_KEY_FILE": client_key_file(tmp_path)}  # fmt: skip
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = gkt("run", "--bootstrap", kafka, "--topic-prefix", prefix, "--http-port", str(port), env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = json.loads(result.stderr.strip().splitlines()[-1])  # the exiting line, as every end of gkt run
    assert (last["event"], last["exit_code"]) == ("exiting", 1)
    assert last["reason"] == f"--http-port {port}: cannot listen on it (Address already in use)"


def test_agreements_check_loads_files_as_the_gateway_does(tmp_path: Path) -> None:
    from contracts.agreement_book import DEFAULT_DIR

    result = gkt("agreements", "check", str(DEFAULT_DIR))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "4 agreement files of 2 partners are valid (4 warnings)"
    assert result.stderr.count("warning: ") == 4
    assert "oin: a test OIN" in result.stderr
    broken = tmp_path / "agreements"
    shutil.copytree(DEFAULT_DIR, broken)
    (broken / "nla" / "2026.1.toml").write_text(
        (broken / "nla" / "2026.1.toml").read_text().replace('alg = "EdDSA"', 'alg = "HS256"', 1)
    )
    (broken / "kvk" / "2025.2.toml").write_text(
        (broken / "kvk" / "2025.2.toml").read_text().replace("max_event_age_days = 14", "max_event_age_days = 0")
    )
    result = gkt("agreements", "check", str(broken))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert [line.split(": ", 1)[1].rsplit(": ", 1)[0] for line in errors] == [
        f"{broken / 'kvk' / '2025.2.toml'}: max_event_age_days",
        f"{broken / 'nla' / '2026.1.toml'}: keys.0.alg",
    ]
    assert result.stderr.splitlines()[-1] == "2 errors, 2 warnings: the gateway would not start"

    result = gkt("agreements", "check", str(broken), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert [(p["severity"], Path(p["file"]).name, p["field"]) for p in report["problems"]] == [
        ("error", "2025.2.toml", "max_event_age_days"),
        ("error", "2026.1.toml", "keys.0.alg"),
        ("warning", "2025.1.toml", "oin"),
        ("warning", "2025.1.toml", "oin"),
    ]
    assert [(a["partner"], a["version"]) for a in report["agreements"]] == [("kvk", "2025.1"), ("nla", "2025.1")]
