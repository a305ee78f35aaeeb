"""The consumer of docs/consumers.md runs as written: it prints every routed MKB signal once, verified."""

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest

from gateway.demo.scenario import samples
from gateway.keyset import KeySet
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka

DOC = Path(__file__).parents[2] / "docs" / "consumers.md"


def documented_consumer() -> str:
    section = DOC.read_text().split("## The Python helper", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "docs/consumers.md shows the consumer"
    return match.group(1)


def test_the_documented_consumer_is_a_whole_program_with_tls() -> None:
    code = documented_consumer()
    compile(code, "consumer.py", "exec")
    assert "asyncio.run(main())" in code
    for setting in ('"SASL_SSL"', "ssl_context", "SCRAM-SHA-512", "sasl_plain_username", "sasl_plain_password"):
        assert setting in code, setting


async def test_the_documented_consumer_runs_as_written(kafka: str, prefix: str, tmp_path: Path) -> None:
    harness = await Harness(kafka, prefix).setup()
    batch = samples()
    async with harness.gateway():
        await harness.publish(batch)
        audit = await harness.wait_for_audit(len(batch))
    mkb = {
        a["destination"]["signal_id"]
        for a in audit
        if a["outcome"] == "routed" and a["destination"]["topic"] == f"{prefix}bd.detectie.mkb"
    }
    assert mkb
    (tmp_path / "consumer.py").write_text(documented_consumer())
    (tmp_path / "gateway-keys.json").write_text(json.dumps(KeySet.of(harness.signer).as_jwks()))
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP": kafka,
        "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
        "GKT_TOPIC_PREFIX": prefix,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "consumer.py", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE
    )
    printed: set[str] = set()
    try:
        assert process.stdout is not None
        async with asyncio.timeout(60):
            while printed != mkb:
                line = (await process.stdout.readline()).decode()
                assert line, "the consumer stopped"
                signal_id, segment = line.split()
                assert segment == "mkb"
                printed.add(signal_id)
    finally:
        process.terminate()
        await process.wait()
    assert printed == mkb, "every MKB signal, verified, and no other"
