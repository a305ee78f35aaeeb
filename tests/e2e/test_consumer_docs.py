"""The consumer of docs/consumers.md runs as written: it prints every routed MKB signal once, verified."""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.demo.scenario import samples
from gateway.keyset import KeySet
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka

REPOSITORY = Path(__file__).parents[2]
DOC = REPOSITORY / "docs" / "consumers.md"


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
    await run_documented_consumer(kafka, prefix, tmp_path, sys.executable)


# What the lean install must not hold: the service, its command line, the embedded broker.
SERVICE_ONLY = ("faststream", "typer", "calfkit", "uvicorn", "pydantic_settings")


@pytest.fixture(scope="module")
def lean_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the package's plain install, as a detection team makes it."""
    where = tmp_path_factory.mktemp("lean")
    source, venv = where / "source", where / "venv"
    # A copy of what a wheel is built from: building in the checkout would leave build/ behind in it.
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPOSITORY / name, source / name)
    for package in ("gateway", "contracts", "validators", "routing"):
        shutil.copytree(REPOSITORY / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(source)], capture_output=True, text=True, check=False
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    return venv / "bin" / "python"


def test_the_lean_install_holds_the_helper_and_not_the_service(lean_python: Path) -> None:
    for module in SERVICE_ONLY:
        found = subprocess.run([str(lean_python), "-c", f"import {module}"], capture_output=True, check=False)
        assert found.returncode != 0, f"{module} is in the lean install"
    helper = subprocess.run(
        [str(lean_python), "-c", "import gateway.consumer, gateway.keyset; print(gateway.consumer.__all__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert helper.returncode == 0, helper.stderr
    assert "SignalSubscriber" in helper.stdout
    command = subprocess.run([str(lean_python.parent / "gkt"), "--help"], capture_output=True, text=True, check=False)
    assert command.returncode == 2
    assert command.stderr.strip().splitlines() == [
        "gkt: the command line needs the service extra: pip install 'gkt-gateway[service]' "
        "(this install is the lean one, for the consumer helper: docs/consumers.md)"
    ]


async def test_the_documented_consumer_runs_in_the_lean_install(
    kafka: str, prefix: str, tmp_path: Path, lean_python: Path
) -> None:
    await run_documented_consumer(kafka, prefix, tmp_path, str(lean_python))


async def run_documented_consumer(kafka: str, prefix: str, tmp_path: Path, python: str) -> None:
    """The block of docs/consumers.md, run by ``python``: it prints every routed MKB signal once, verified."""
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
        python, "consumer.py", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE
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
