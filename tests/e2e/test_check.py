"""``gkt check``: its JSON and exit codes are a public interface partners and testers script against."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from contracts.signal import Signal
from gateway.cli.app import app
from gateway.demo import samples as s
from gateway.demo.scenario import SCENARIO_NOW, Sample, samples
from gateway.reasons import Outcome
from tests.e2e.conftest import GKT, gkt
from tests.helpers import NOW
from tests.integration.test_new_partner import FIXTURES, uwv_event, uwv_setup

KEYS = s.keys_dir()
REFERENCE = str(s.REFERENCE_FILE)
CHECKABLE = [x for x in samples(SCENARIO_NOW) if x.outcome is not Outcome.DUPLICATE]  # offline there is no history


@pytest.mark.parametrize("sample", CHECKABLE, ids=[x.label for x in CHECKABLE])
def test_check_gives_every_outcome_and_reason(sample: Sample, tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_bytes(sample.value or b"")
    signature = dict(sample.headers).get("gkt-signature", b"").decode()
    received_at = (sample.timestamp or SCENARIO_NOW).isoformat()
    result = CliRunner().invoke(
        app,
        [
            "check",
            str(path),
            "--partner",
            sample.partner,
            "--signature",
            signature,
            "--received-at",
            received_at,
            "--reference",
            REFERENCE,
            "--allow-test-oins",
        ],
    )
    out = json.loads(result.stdout)
    assert out["outcome"] == sample.outcome.value
    assert [r["code"] for r in out["reasons"]] == [c.value for c in sample.codes]
    assert result.exit_code == (0 if sample.outcome is Outcome.ROUTED else 1)
    assert out["destination"] == ({"topic": sample.destination} if sample.destination else None)
    assert out["receipt"]["outcome"] == sample.outcome.receipt_outcome
    if sample.outcome is Outcome.ROUTED:
        Signal.model_validate(out["signal"], strict=False)
    else:
        assert out["signal"] is None


def check_cli(path: Path, partner: str, *signing: str, test_oins: bool = True) -> tuple[int, dict]:  # type: ignore[type-arg]
    """``gkt check`` as a partner runs it, at NOW with the sample reference data."""
    flags = ["--allow-test-oins"] if test_oins else []
    result = gkt(
        "check",
        str(path),
        "--partner",
        partner,
        *signing,
        "--received-at",
        NOW.isoformat(),
        "--reference",
        REFERENCE,
        *flags,
    )
    return result.returncode, json.loads(result.stdout)


def test_check_signs_with_a_key_file(event_file) -> None:  # type: ignore[no-untyped-def]
    path = event_file(s.encode(s.event(s.nla_report(), time=NOW)))
    code, out = check_cli(path, "nla", "--key", str(KEYS / "nla-2025-01.pem"), "--kid", "nla-2025-01")
    assert code == 0, out
    assert out["outcome"] == "routed"
    assert out["destination"] == {"topic": "bd.detectie.mkb"}
    assert out["signal"]["handhaving"]["correctieMogelijkVanaf"] == "2025-01-01"
    assert set(out) == {"outcome", "reasons", "destination", "receipt", "signal"}


def test_sign_then_check_with_the_signature(event_file) -> None:  # type: ignore[no-untyped-def]
    path = event_file(s.encode(s.event(s.kvk_report(), time=NOW, source=s.KVK_SOURCE, report_type=s.KVK_TYPE)))
    signed = gkt("sign", str(path), "--key", str(KEYS / "kvk-2025-01.pem"), "--kid", "kvk-2025-01")
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.strip().startswith("eyJ")
    code, out = check_cli(path, "kvk", "--signature", signed.stdout.strip())
    assert code == 0, out
    assert out["outcome"] == "routed"


def test_test_oins_are_refused_by_default(event_file) -> None:  # type: ignore[no-untyped-def]
    path = event_file(s.encode(s.event(s.nla_report(), time=NOW)))
    code, out = check_cli(path, "nla", "--key", str(KEYS / "nla-2025-01.pem"), "--kid", "nla-2025-01", test_oins=False)
    assert code == 1
    assert out["reasons"][0]["code"] == "EVENT_INVALID"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--partner", "nla"], "give either --key with --kid, or --signature"),
        (["--partner", "nla", "--signature", "x", "--received-at", "yesterday"], "--received-at 'yesterday'"),
        (["--partner", "nla", "--signature", "x", "--received-at", "2025-06-02T10:00:00"], "with an offset"),
    ],
)
def test_usage_errors_exit_2_with_one_line(event_file, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    path = event_file(b"{}")
    result = gkt("check", str(path), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = gkt("check", str(tmp_path / "none.json"), "--partner", "nla", "--signature", "x")
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_invalid_agreements_stop_with_one_line_naming_file_and_field(tmp_path: Path, event_file) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "agreements" / "nla"
    broken.mkdir(parents=True)
    text = (Path(s.__file__).parents[2] / "contracts" / "agreements" / "nla" / "2025.1.toml").read_text()
    (broken / "2025.1.toml").write_text(text.replace("max_event_age_days = 30", "max_event_age_days = -1"))
    path = event_file(b"{}")
    result = gkt(
        "check", str(path), "--partner", "nla", "--signature", "x", "--agreements", str(tmp_path / "agreements")
    )
    assert result.returncode == 1
    assert "nla/2025.1.toml: max_event_age_days:" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("value", "signature", "code"),
    [
        (b'{"\\ud800": 1}', "", "EVENT_UNREADABLE"),  # a lone surrogate escape in the event file
        (s.encode(s.event(s.nla_report(), time=NOW)), "äö..ü", "SIGNATURE_INVALID"),  # a signature that is not ASCII
    ],
)
def test_check_decides_hostile_input_as_the_gateway_does(
    value: bytes, signature: str, code: str, event_file: Any
) -> None:
    result = gkt(
        "check", str(event_file(value)), "--partner", "nla", "--signature", signature,
        "--received-at", NOW.isoformat(), "--allow-test-oins", "--reference", REFERENCE,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert [r["code"] for r in json.loads(result.stdout)["reasons"]] == [code]
    assert "Traceback" not in result.stderr


def test_in_a_folder_with_its_own_agreements_check_decides_with_them_and_says_so(tmp_path: Path) -> None:
    """An operator onboarding UWV works in a folder holding contracts/agreements/uwv: no flag needed."""
    agreements, partner_key = uwv_setup(tmp_path)
    own = tmp_path / "contracts" / "agreements"
    own.parent.mkdir()
    agreements.rename(own)
    event = tmp_path / "event.json"
    sample = uwv_event(partner_key)
    event.write_bytes(sample.value or b"")
    signature = dict(sample.headers)["gkt-signature"].decode()
    result = subprocess.run(
        [str(GKT), "check", str(event), "--partner", "uwv", "--signature", signature, "--reference", REFERENCE],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "GKT_CONTRACTS_DIR": str(FIXTURES / "contracts"), "GKT_ALLOW_TEST_OINS": "true"},
        timeout=60,
        check=False,
    )
    assert json.loads(result.stdout)["outcome"] == "routed", result.stdout
    assert f"gkt: deciding with agreements {own} (" in result.stderr
    assert "uwv 2025.1" in result.stderr
