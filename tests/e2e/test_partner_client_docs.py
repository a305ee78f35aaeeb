"""The librdkafka producer of docs/partners.md runs as written: its report is decided, with its receipt."""

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest

from contracts.jsonio import strict_loads
from gateway.demo import samples as s
from gateway.kafka.follower import read_all
from gateway.types import PartnerId
from tests.helpers import now
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka
DOC = Path(__file__).parents[2] / "docs" / "partners.md"
KEYS = Path(os.environ["GKT_DEMO_KEYS"])


def documented_producer(bootstrap: str, prefix: str) -> str:
    section = DOC.read_text().split("### Your own Kafka client", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "docs/partners.md shows a librdkafka producer"
    code = match.group(1)
    assert '"compression.type": "lz4"' in code, "the example shows a codec"
    code = code.replace("kafka:9092", bootstrap).replace('"gkt.in.nla"', f'"{prefix}gkt.in.nla"')
    return code.replace("keys/nla-2026-01.pem", str(KEYS / "nla-2025-01.pem")).replace("nla-2026-01", "nla-2025-01")


async def test_the_documented_librdkafka_producer_runs_as_written(kafka: str, prefix: str, tmp_path: Path) -> None:
    harness = await Harness(kafka, prefix).setup()
    event = s.encode(s.event(s.nla_report(), time=now()))
    (tmp_path / "event.json").write_bytes(event)
    (tmp_path / "producer.py").write_text(documented_producer(kafka, prefix))
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # gkt of this checkout
    process = await asyncio.create_subprocess_exec(
        sys.executable, "producer.py", cwd=tmp_path, env={**os.environ, "PATH": path}, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    async with harness.gateway():
        [audit] = await harness.wait_for_audit(1)
    assert audit["outcome"] == "routed"
    assert audit["event"]["id"] == json.loads(event)["id"], "the record is the file that was signed"
    [receipt] = [strict_loads(r.value) for r in await read_all(kafka, harness.topics.feedback(PartnerId("nla")))]
    assert receipt["outcome"] == "accepted"
