"""``gkt review`` as the review team uses it, against a running gateway; then verify and replay over review chains."""

import asyncio
import json
from pathlib import Path

import pytest

from gateway.demo import samples as s
from gateway.demo.scenario import samples
from gateway.keyset import KeySet
from tests.e2e.conftest import gkt
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


async def run(harness: Harness, *args: str) -> tuple[int, str, str]:
    """``gkt ARGS`` in a thread, so that the gateway in this event loop keeps deciding meanwhile."""
    common = ["--bootstrap", harness.bootstrap, "--topic-prefix", harness.settings.topic_prefix]
    result = await asyncio.to_thread(gkt, *args, *common)
    return result.returncode, result.stdout, result.stderr


def as_reviewer(reviewer: str) -> list[str]:
    return [
        "--key",
        str(s.keys_dir() / f"{reviewer}-2025.pem"),
        "--kid",
        s.reviewer_kid(reviewer),
        "--reviewer",
        reviewer,
    ]


async def test_list_show_release_and_replay(kafka: str, prefix: str, tmp_path: Path) -> None:
    harness = await Harness(kafka, prefix).setup()
    batch = samples()
    async with harness.gateway():
        await harness.publish(batch)
        await harness.wait_for_audit(len(batch))
        code, out, err = await run(harness, "review", "list", "--json")
        assert code == 0, err
        listed = json.loads(out)
        assert len(listed) == 3
        pilot = next(item for item in listed if item["partner"] == "kvk")
        assert pilot["reasons"] == ["REVIEW_REQUIRED"]
        assert pilot["verdicts"] == []
        code, out, _ = await run(harness, "review", "list", "--json", "--reason", "REFERENCE_UNKNOWN")
        assert {item["partner"] for item in json.loads(out)} == {"nla"}

        code, out, err = await run(harness, "review", "show", pilot["event_id"], "--json", "--allow-test-oins")
        assert code == 0, err
        shown = json.loads(out)
        assert shown["item"] == pilot["item"], "an event id that is unique names its item"
        assert shown["release_now"] == f"route to {prefix}bd.detectie.mkb"
        assert shown["event"]["type"] == s.KVK_TYPE, "the held event in full, for the reviewer"
        assert shown["rules"]["agreement"].startswith("kvk:2025.1:")

        grounds = ["--grounds", "pilot review: report matches the register"]
        code, out, err = await run(harness, "review", "release", pilot["item"], *as_reviewer("r-0001"), *grounds)
        assert (code, out.splitlines()[0]) == (0, f"release of {pilot['item']} by r-0001: pending"), err
        code, out, _ = await run(harness, "review", "list", "--json")
        [listed_pilot] = [item for item in json.loads(out) if item["item"] == pilot["item"]]
        assert listed_pilot["verdicts"] == [
            {"reviewer": "r-0001", "verdict": "release", "outcome": "pending", "name": "A. Jansen (demo)"}
        ], "the name is shown to people here, and only here"
        code, _, err = await run(harness, "review", "release", pilot["item"], *as_reviewer("r-0002"))
        assert code == 2
        assert "--grounds is required for release" in err
        code, out, _ = await run(harness, "review", "release", pilot["item"], *as_reviewer("r-0001"), *grounds)
        assert code == 1
        assert "VERDICT_REPEATED" in out
        code, out, err = await run(
            harness, "review", "release", pilot["item"], *as_reviewer("r-0002"), *grounds, "--json"
        )
        assert code == 0, err
        released = json.loads(out)
        assert (released["outcome"], released["destination"]) == ("released", f"{prefix}bd.detectie.mkb")

        code, out, _ = await run(harness, "review", "list", "--json")
        assert pilot["item"] not in {item["item"] for item in json.loads(out)}
        code, _, err = await run(harness, "review", "release", "gkt.in.kvk/0/999", *as_reviewer("r-0003"), *grounds)
        assert code == 2
        assert "no report was quarantined at this position" in err
        code, out, _ = await run(harness, "review", "discard", pilot["item"], *as_reviewer("r-0003"), *grounds)
        assert code == 1
        assert "ITEM_NOT_OPEN" in out

    audit = tmp_path / "audit.jsonl"
    code, _, err = await run(harness, "audit", "export", "--out", str(audit))
    assert code == 0, err
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(KeySet.of(harness.signer).as_jwks()))
    result = await asyncio.to_thread(gkt, "audit", "verify", "--file", str(audit), "--keys", str(keys))
    assert result.returncode == 0, result.stdout + result.stderr
    code, out, err = await run(harness, "audit", "replay", "--allow-test-oins")
    assert code == 0, out + err
    assert f"{len(batch) + 4} identical, 0 differences" in out, "every report and every verdict reproduced"
