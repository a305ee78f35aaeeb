"""Through the broker: detection teams' steps on ``bd.terugkoppeling`` (spec/selection.md) are decided by the
running gateway, one audit record each in chains of their own, also after a restart (the signals come back from
the audit log); ``gkt feedback send`` prints the outcome; nothing reaches a partner's feedback topic."""

import asyncio
import json
import os
import sys
from asyncio.subprocess import PIPE
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.jsonio import strict_loads
from gateway.audit.verify import verify
from gateway.demo import samples as s
from gateway.keyset import KeySet
from gateway.signed_send import Signed, send_signed
from gateway.types import PartnerId
from routing.calendar import day_of_receipt
from tests.integration.harness import Harness
from tests.integration.test_earlier_signals import decide

pytestmark = pytest.mark.kafka

KEYS = Path(os.environ["GKT_DEMO_KEYS"])
GKT = Path(sys.executable).parent / "gkt"


async def step(harness: Harness, signal_id: str, status: str, on: str, team: str = "mkb-oost") -> dict[str, object]:
    """One signed step, as ``gkt feedback send`` publishes it; the gateway's audit record of it."""
    value = s.feedback(signal_id, status, on, team)
    signed = Signed(
        harness.topics.terugkoppeling,
        value,
        signal_id.encode(),
        s.sign_feedback(value, team).decode(),
        "the step",
        "-",
        "-",
    )
    _, audit = await send_signed(harness.bootstrap, harness.topics, signed, 60.0)
    return audit


async def run(command: list[str], env: dict[str, str] | None = None) -> tuple[int | None, str, str]:
    """A command as a process, without blocking the gateway that runs in this event loop."""
    process = await asyncio.create_subprocess_exec(*command, stdout=PIPE, stderr=PIPE, env=env)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


async def test_steps_are_decided_by_the_running_gateway_and_after_a_restart(harness: Harness, tmp_path: Path) -> None:
    today = day_of_receipt(datetime.now(UTC)).isoformat()
    async with harness.gateway():
        _, routed, data = await decide(harness, "nla")
        signal_id = data["signaalId"]
        recorded = await step(harness, signal_id, "geselecteerd", today)
        assert recorded["outcome"] == "recorded", recorded["reasons"]
        assert str(recorded["chain"]).startswith(f"{harness.topics.terugkoppeling}/")
        assert recorded["feedback"] == {
            "signal_id": signal_id,
            "status": "geselecteerd",
            "op": today,
            "team": "mkb-oost",
            "partner": "nla",
        }
        unknown = await step(harness, "0b9c2f1e-7d3a-5c11-9e4b-2a6f8d0c4e17", "geselecteerd", today)
        assert unknown["outcome"] == "rejected"
        assert [r["code"] for r in unknown["reasons"]] == ["FEEDBACK_INVALID"]  # type: ignore[attr-defined]
    async with harness.gateway():  # a restart: the signal is known again from the audit log
        again = await step(harness, signal_id, "onderzoek_gestart", today, team="mkb-west")
        assert again["outcome"] == "recorded", again["reasons"]
        # The command a team types, as a process: exit 0 and the outcome printed.
        command = [
            str(GKT), "feedback", "send", signal_id, "--status", "boete_opgelegd",
            "--key", str(KEYS / "mkb-oost-2025.pem"), "--kid", "mkb-oost-2025", "--team", "mkb-oost",
            "--bootstrap", harness.bootstrap, "--topic-prefix", harness.topics.prefix, "--json",
        ]  # fmt: skip
        code, out, err = await run(command)
        assert code == 0, err
        printed = json.loads(out)
        assert (printed["outcome"], printed["status"], printed["op"]) == ("recorded", "boete_opgelegd", today)
        code, out, err = await run([*command[:3], "0b9c2f1e-7d3a-5c11-9e4b-2a6f8d0c4e17", *command[4:]])
        assert code == 1, err
        assert json.loads(out)["reasons"] == [{"code": "FEEDBACK_INVALID", "path": None}]

    audit = await harness.audit()
    assert verify(audit, KeySet.of(harness.signer)).ok
    # gkt.audit has several partitions: read back, chains interleave in any order. Each step was sent after the
    # previous one was decided, so their decision times give the order they were sent in.
    steps = sorted((a for a in audit if "feedback" in a), key=lambda a: a["decided_at"])
    assert [a["outcome"] for a in steps] == ["recorded", "rejected", "recorded", "recorded", "rejected"]
    # Nothing of it reaches the partner: its feedback topic holds the one receipt of its report.
    receipts = [strict_loads(r.value or b"") for r in await harness.records(harness.topics.feedback(PartnerId("nla")))]
    assert [r["outcome"] for r in receipts] == ["accepted"]
    assert routed["destination"]["signal_id"] == signal_id

    await report_on_it(harness, tmp_path, today)


async def report_on_it(harness: Harness, tmp_path: Path, today: str) -> None:
    """``gkt report`` on that log: from Kafka, for one partner (counts under 10 hidden) and published to it; and
    refused on a tampered export."""
    keys = tmp_path / "gateway-keys.json"
    keys.write_text(json.dumps(KeySet.of(harness.signer).as_jwks()))
    pem = tmp_path / "gateway.pem"
    pem.write_bytes(harness.signer.private_pem())
    where = ["--bootstrap", harness.bootstrap, "--topic-prefix", harness.topics.prefix, "--keys", str(keys)]
    window = ["--from", today, "--to", today, "--by", "month"]
    code, out, err = await run([str(GKT), "report", *window, *where, "--json"])
    assert code == 0, err
    figures = json.loads(out)
    period = today[:7]
    assert figures["tables"]["reports"]["rows"] == [
        {"period": period, "partner": "nla", "outcome": "routed", "count": 1}
    ]
    assert figures["tables"]["feedback"]["rows"] == [
        {"period": period, "partner": "nla", "status": status, "signals": 1}
        for status in ("boete_opgelegd", "geselecteerd", "onderzoek_gestart")
    ]
    env = {**os.environ, "GKT_SIGNING_KEY": str(pem), "GKT_SIGNING_KID": harness.signer.kid}
    process = await asyncio.create_subprocess_exec(
        str(GKT),
        "report",
        *window,
        *where,
        "--partner",
        "nla",
        "--publish",
        "--json",
        stdout=PIPE,
        stderr=PIPE,
        env=env,
    )
    out_bytes, err_bytes = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err_bytes.decode()
    hidden = json.loads(out_bytes)["tables"]["reports"]["rows"]
    assert hidden == [{"period": period, "partner": "nla", "outcome": "routed", "count": "<10"}]
    on_topic = await harness.records(harness.topics.feedback(PartnerId("nla")))
    [summary] = [r for r in on_topic if b"samenvatting" in (r.value or b"")]
    event = strict_loads(summary.value or b"")
    assert event["type"] == "nl.belastingdienst.gkt.terugkoppeling.samenvatting"
    assert event["data"]["tabellen"]["reports"]["rows"] == hidden
    signature = dict(summary.headers)["gkt-signature"]
    assert KeySet.of(harness.signer).verifies(signature, summary.value or b"", datetime.now(UTC))
    # A tampered export: one step's status changed; the report refuses it (exit 1), figures or not.
    audit = await harness.audit()
    changed = next(i for i, a in enumerate(audit) if a.get("feedback", {}).get("status") == "geselecteerd")
    audit[changed]["feedback"]["status"] = "boete_opgelegd"
    export = tmp_path / "tampered.jsonl"
    export.write_text("".join(json.dumps(a) + "\n" for a in audit))
    code, out, err = await run([str(GKT), "report", *window, "--file", str(export), "--keys", str(keys)])
    assert code == 1
    assert "does not verify" in err
    assert out == ""
