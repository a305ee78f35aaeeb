"""``gkt audit replay``: every decision reproduced, also after a new agreement version came into force (G5)."""

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contracts.agreement_book import DEFAULT_DIR
from gateway.demo.scenario import samples
from tests.e2e.conftest import gkt
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


def replay(harness: Harness, *args: str, agreements: Path | None = None, test_oins: bool = True) -> tuple[int, str]:
    extra = ["--agreements", str(agreements)] if agreements else []
    extra += ["--allow-test-oins"] if test_oins else []  # the gateway under test accepted test OINs: so must replay
    result = gkt(
        "audit",
        "replay",
        "--bootstrap",
        harness.bootstrap,
        "--topic-prefix",
        harness.settings.topic_prefix,
        *extra,
        *args,
    )
    return result.returncode, result.stdout + result.stderr


async def decided_run(kafka: str, prefix: str, agreements: Path | None = None) -> Harness:
    extra = {"agreements": agreements} if agreements else {}
    harness = await Harness(kafka, prefix, **extra).setup()
    batch = samples()
    async with harness.gateway():
        await harness.publish(batch)
        await harness.wait_for_audit(len(batch))
    return harness


async def test_replay_reproduces_every_decision_of_the_demo(kafka: str, prefix: str) -> None:
    harness = await decided_run(kafka, prefix)
    code, output = replay(harness)
    assert code == 0, output
    assert "26 identical, 0 differences, 0 unverifiable, 0 no longer on the inbound topics" in output
    code, output = replay(harness, "--json")
    report = json.loads(output[: output.rindex("}") + 1])  # stdout; stderr (empty here) follows it
    assert (code, report["ok"], report["identical"], report["differences"]) == (0, True, 26, [])
    code, output = replay(harness, test_oins=False)  # an auditor who forgot the flag: not taken for tampering
    assert code == 1
    assert "replay them with --allow-test-oins" in output
    assert "['" not in output, "human output without Python reprs"
    assert "(event None)" not in output
    assert "each record under the versions its audit record names, from agreements" in output


async def test_replay_after_a_new_agreement_version_came_into_force(kafka: str, prefix: str, tmp_path: Path) -> None:
    agreements = tmp_path / "agreements"
    shutil.copytree(DEFAULT_DIR, agreements)
    harness = await decided_run(kafka, prefix, agreements)
    current = agreements / "nla" / "2026.1.toml"
    # Agreeing a successor: keep the exact bytes of the version in force, close it, add the new one.
    (agreements / "nla" / "archive").mkdir(exist_ok=True)  # the samples keep earlier bytes of 2026.1 there already
    shutil.copy(current, agreements / "nla" / "archive" / "2026.1.toml")
    cut = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0).isoformat()
    text = current.read_text()
    current.write_text(
        text.replace(
            "in_force = { from = 2026-01-01T00:00:00+01:00 }",
            f"in_force = {{ from = 2026-01-01T00:00:00+01:00, until = {cut} }}",
        )
    )
    successor = (
        text.replace('version = "2026.1"', 'version = "2027.1"')
        .replace("in_force = { from = 2026-01-01T00:00:00+01:00 }", f"in_force = {{ from = {cut} }}")
        .replace("min_indicatoren = 3", "min_indicatoren = 5")
    )
    (agreements / "nla" / "2027.1.toml").write_text(successor)

    code, output = replay(harness, agreements=agreements)
    assert code == 0, output
    assert "26 identical, 0 differences" in output

    # Without the archived bytes the decisions cannot be verified, and replay says so.
    shutil.rmtree(agreements / "nla" / "archive")
    code, output = replay(harness, agreements=agreements)
    assert code == 1
    assert "unverifiable" in output
    assert "restore its exact bytes into contracts/agreements/nla/archive/" in output


async def test_replay_lists_differences_in_reference_data(kafka: str, prefix: str, tmp_path: Path) -> None:
    harness = await decided_run(kafka, prefix)
    reference = tmp_path / "ref.jsonl"
    reference.write_text(
        '{"kvkNummer": "12345678", "segment": "go", "horizontaalToezichtLoonheffingen": false, '
        '"aanwijzingDatum": null, "modelovereenkomstTot": null}\n'
    )
    code, output = replay(harness, "--reference", str(reference))
    assert code == 1
    assert "destination: recorded" in output
    assert "versions.reference" in output


async def test_explain_prints_a_decision_stage_by_stage(kafka: str, prefix: str) -> None:
    harness = await decided_run(kafka, prefix)
    code, output = replay(harness, "--explain", "nla-demo-0001")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].startswith("event nla-demo-0001 at ")
    assert "recorded routed" in lines[0]
    stages = [line.split()[1] for line in lines[1:8]]
    assert stages == ["read", "authenticate", "deduplicate", "screen", "contract", "agreement", "route"]
    assert all(line.split()[0] == "pass" for line in lines[1:8])
    assert "identical to the recorded decision" in output
    # The retry of that report is explained too: it failed at deduplicate.
    assert "recorded duplicate" in output
    assert "FAIL  deduplicate" in output
    assert "DUPLICATE /id" in output
    missing = replay(harness, "--explain", "no-such-event")
    assert missing[0] == 2
