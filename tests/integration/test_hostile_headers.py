"""A header key that is not UTF-8 neither stops the gateway nor hides the records around it (G6)."""

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gateway.demo import samples as s
from gateway.types import PartnerId
from tests.helpers import now
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka

# aiokafka's own producers only write UTF-8 keys; its pure-Python record builder
# calls key.encode(), so a str whose encode() returns other bytes writes what a
# C client could. It runs in a child process, where only the pure-Python builder is active.
PRODUCER = textwrap.dedent("""
    import asyncio, sys
    from aiokafka import AIOKafkaProducer

    class Hostile(str):
        def encode(self, *args, **kwargs):
            return b"\\xff\\xfe-key"

    async def main(bootstrap, topic, first, first_sig, second, second_sig):
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        await producer.send_and_wait(topic, open(first, "rb").read(), partition=0,
                                     headers=[(Hostile("x"), b"x"), ("gkt-signature", open(first_sig, "rb").read())])
        await producer.send_and_wait(topic, open(second, "rb").read(), partition=0,
                                     headers=[("gkt-signature", open(second_sig, "rb").read())])
        await producer.stop()

    asyncio.run(main(*sys.argv[1:]))
""")


async def test_a_non_utf8_header_key_is_read_and_decided(harness: Harness, tmp_path: Path) -> None:
    files = []
    for name in ("first", "second"):
        value = s.encode(s.event(s.nla_report(), time=now()))
        (tmp_path / f"{name}.json").write_bytes(value)
        (tmp_path / f"{name}.sig").write_bytes(s.sign(value, "nla-2025-01"))
        files += [str(tmp_path / f"{name}.json"), str(tmp_path / f"{name}.sig")]
    script = tmp_path / "produce.py"
    script.write_text(PRODUCER)
    env = {**os.environ, "AIOKAFKA_NO_EXTENSIONS": "1"}
    command = [sys.executable, str(script), harness.bootstrap, harness.topics.inbound(PartnerId("nla")), *files]
    await asyncio.to_thread(subprocess.run, command, env=env, check=True, timeout=60)
    async with harness.gateway() as service:
        audit = await harness.wait_for_audit(2)
        assert await harness.decided_by(service, 2) == 2
    assert [a["outcome"] for a in sorted(audit, key=lambda a: a["inbound"]["offset"])] == ["routed", "routed"]
