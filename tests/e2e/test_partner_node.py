"""A partner in another language: Node.js signing with the `jose` library, checked by the gateway."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.demo import samples as s
from tests.e2e.conftest import gkt
from tests.helpers import NOW

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "partner-node"


@pytest.fixture(scope="module")
def node_sign() -> Path:
    """The example, with its pinned dependencies installed from the lockfile."""
    npm = shutil.which("npm")
    assert npm is not None, "npm is needed for the partner example (Node.js is on every machine of this project)"
    if not (EXAMPLE / "node_modules" / "jose").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=EXAMPLE, check=True, capture_output=True, timeout=300
        )
    return EXAMPLE / "sign.mjs"


def sign_with_node(script: Path, event: Path) -> str:
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, str(script), str(event), str(s.keys_dir() / "nla-2025-01.pem"), "nla-2025-01"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def check(event: Path, signature: str) -> dict:  # type: ignore[type-arg]
    result = gkt(
        "check",
        str(event),
        "--partner",
        "nla",
        "--signature",
        signature,
        "--received-at",
        NOW.isoformat(),
        "--reference",
        str(s.REFERENCE_FILE),
        "--allow-test-oins",
    )
    return dict(json.loads(result.stdout))


def test_the_gateway_accepts_a_report_signed_by_jose(node_sign: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_bytes(s.encode(s.event(s.nla_report(), time=NOW)))
    assert check(event, sign_with_node(node_sign, event))["outcome"] == "routed"


def test_the_gateway_rejects_a_tampered_report(node_sign: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_bytes(s.encode(s.event(s.nla_report(), time=NOW)))
    signature = sign_with_node(node_sign, event)
    event.write_bytes(event.read_bytes().replace(b"NLA-2025-000123", b"NLA-2025-000124"))
    result = check(event, signature)
    assert result["outcome"] == "rejected"
    assert [r["code"] for r in result["reasons"]] == ["SIGNATURE_INVALID"]
