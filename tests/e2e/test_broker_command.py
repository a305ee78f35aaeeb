"""``gkt broker`` tells the truth: the port only once its own broker answers there, and an end when it ends."""

import socket
import subprocess
from pathlib import Path

import pytest

from gateway.kafka.embedded import EmbeddedBroker, answers_kafka, free_port, terminate
from tests.e2e.conftest import GKT

pytestmark = pytest.mark.kafka


def broker_command(port: int) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [str(GKT), "broker", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def refused(port: int) -> tuple[int, str, str]:
    process = broker_command(port)
    try:
        out, err = process.communicate(timeout=30)
    finally:
        terminate(process, 5)
    return process.returncode, out, err


def test_a_port_another_program_listens_on_is_refused_in_one_line() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, out, err = refused(port)
    assert code == 1
    assert out == "", "no port announced"
    assert err.splitlines() == [f"gkt: the embedded broker cannot listen on 127.0.0.1:{port} (Address already in use)"]


def test_a_port_another_kafka_broker_answers_on_is_refused_too() -> None:
    """The case that fooled it: something else answering the Kafka protocol there looked like success."""
    with EmbeddedBroker() as other:
        code, out, err = refused(other.port)
    assert code == 1
    assert out == ""
    assert f"cannot listen on 127.0.0.1:{other.port}" in err
    assert len(err.splitlines()) == 1


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_when_its_helper_dies_it_exits_non_zero_in_one_line() -> None:
    port = free_port()
    process = broker_command(port)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith(f"embedded broker on 127.0.0.1:{port}")
        assert answers_kafka("127.0.0.1", port)
        helpers = children(process.pid)
        assert len(helpers) == 2, "tansu and the produce gate"
        subprocess.run(["kill", "-9", str(max(helpers))], check=True)  # the gate, started second
        _, err = process.communicate(timeout=15)
    finally:
        terminate(process, 5)
    assert process.returncode == 1
    assert err.splitlines() == [
        f"gkt: the embedded produce gate exited (code -9); clients of 127.0.0.1:{port} have no broker now"
    ]
    assert not Path(f"/proc/{min(helpers)}").exists(), "and it stopped tansu on its way out"
