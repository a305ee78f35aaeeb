"""Every way ``gkt run`` ends, as an operator and a supervisor see it (docs/operations.md, "Stopping").

SIGTERM, SIGINT, Ctrl-C to the whole process group with the built-in broker,
a broker gone past the outage limit, a fatal error at start: each ends in one
JSON ``exiting`` line with its reason and exit code, after every Kafka client
is closed: nothing but JSON in the log, no traceback, no ``Unclosed`` line.
"""

import asyncio
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from gateway.kafka.embedded import EmbeddedBroker, free_port, terminate
from tests.e2e.conftest import GKT
from tests.e2e.fault_proxy import FaultProxy
from tests.e2e.gateway_process import GatewayProcess, http_get
from tests.helpers import client_key_file
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


def check_clean_end(lines: list[dict[str, Any]], reason: str, code: int) -> None:
    """The last line says why and with which code; nothing of the stop's own trouble before it."""
    last = lines[-1]
    assert last["event"] == "exiting", lines[-3:]
    assert reason in last["reason"]
    assert last["exit_code"] == code
    assert [line["event"] for line in lines].count("exiting") == 1
    for line in lines:
        assert "Unclosed" not in str(line["event"]), line
        assert "exception" not in line, line
        assert "Traceback" not in str(line), line


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_the_gateway_cleanly(kafka: str, prefix: str, tmp_path: Path, signum: int) -> None:
    await Harness(kafka, prefix).setup()
    gateway = await asyncio.to_thread(GatewayProcess(kafka, prefix, tmp_path).start)
    assert gateway.process is not None
    gateway.process.send_signal(signum)
    assert await asyncio.to_thread(gateway.process.wait, 30) == 0
    lines = gateway.log_lines()
    check_clean_end(lines, f"{signal.Signals(signum).name} received", 0)
    starting = next(line for line in lines if line["event"] == "starting")
    assert sorted(starting["folders"]) == ["agreements", "policies", "reviewers", "teams"], (
        "which folders it decides with"
    )
    assert all(os.path.isdir(folder) for folder in starting["folders"].values())  # noqa: ASYNC240 - a stat


def test_ctrl_c_to_the_process_group_with_the_built_in_broker(tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches every process of the group: the broker must outlive the gateway's last write."""
    port = free_port()
    log_path = tmp_path / "gateway.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(GKT), "run", "--http-port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # its own group, as a shell gives a foreground job
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 90
        while http_get(port, "/readyz")[0] != 200:
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(30) == 0, log_path.read_text()[-3000:]
    finally:
        terminate(process, 10)
    lines = GatewayProcess.read_log(log_path)
    check_clean_end(lines, "SIGINT received", 0)
    assert lines[-2]["event"] == "stopped"
    events = [line["event"] for line in lines]
    # Ready only once the reference topic was read; a new broker's is empty, which is said out loud.
    assert events.index("caught_up") < events.index("reference_data_empty") < events.index("consuming")


@pytest.mark.timeout(120)
async def test_a_broker_gone_past_the_outage_limit_ends_in_one_exiting_line(tmp_path: Path) -> None:
    proxy_port = free_port()
    with EmbeddedBroker(advertised_port=proxy_port, gate_produce=False) as broker:
        proxy = FaultProxy(proxy_port, broker.port).start()
        try:
            bootstrap = f"127.0.0.1:{proxy_port}"
            prefix = f"t{uuid.uuid4().hex[:10]}."
            await Harness(bootstrap, prefix).setup()
            process = GatewayProcess(bootstrap, prefix, tmp_path, GKT_BROKER_OUTAGE_SECONDS="5")
            gateway = await asyncio.to_thread(process.start)
            proxy.refuse()
            deadline = time.monotonic() + 60
            while gateway.exit_code() is None:
                assert time.monotonic() < deadline, "still running a minute into a 5-second outage limit"
                await asyncio.sleep(0.5)
        finally:
            proxy.stop()
    assert gateway.exit_code() == 1, "a supervisor restarts it"
    check_clean_end(gateway.log_lines(), "Kafka unreachable for more than 5 s", 1)


def test_a_fatal_error_at_start_ends_in_one_exiting_line(tmp_path: Path) -> None:
    """Nothing listens at the bootstrap address: the gateway cannot start, and says so as its last line."""
    key = tmp_path / "gw.pem"
    subprocess.run([str(GKT), "keys", "new", "--kid", "gw", "--out", str(tmp_path)], check=True, capture_output=True)
    env = {**os.environ, "GKT_SIGNING_KEY": str(tmp_path / "gw.pem"), "GKT_SIGNING_KID": "gw",
           "GKT_CLIENT_KEY_FILE": client_key_file(tmp_path)}  # fmt: skip
    assert key.exists()
    done = subprocess.run(
        [str(GKT), "run", "--bootstrap", f"127.0.0.1:{free_port()}", "--http-port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    lines = GatewayProcess.parse_log(done.stderr)
    check_clean_end(lines, "127.0.0.1", 1)
    refused = next(line for line in lines if line["event"] == "test_oins_refused")
    assert refused["level"] == "error", "the packaged sample agreements, without --allow-test-oins: said loudly"
    assert refused["partners"] == ["kvk", "nla"]


async def test_a_broker_refusing_the_idempotent_producer_is_named_so(kafka: str, prefix: str, tmp_path: Path) -> None:
    """The embedded broker refuses InitProducerId: not 'cannot reach Kafka … UnknownError'."""
    await Harness(kafka, prefix).setup()
    process = GatewayProcess(kafka, prefix, tmp_path, GKT_IDEMPOTENT_PRODUCER="true")
    with pytest.raises(AssertionError, match="gkt run exited with 1"):
        await asyncio.to_thread(process.start)
    check_clean_end(process.log_lines(), f"Kafka at {kafka} refused the idempotent producer", 1)
