"""``gkt run`` as a process, as an operator runs it: its HTTP probes, its exit code, its log lines."""

import http.client
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from gateway.kafka.embedded import free_port, terminate
from tests.e2e.conftest import GKT
from tests.helpers import client_key_file


def http_get(port: int, path: str) -> tuple[int, str]:
    """Status and body of a GET on 127.0.0.1; (0, "") when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    except OSError:
        return 0, ""
    finally:
        connection.close()


class GatewayProcess:
    """One ``gkt run`` with its own key and HTTP port; stderr (the JSON log) goes to a file."""

    def __init__(self, bootstrap: str, prefix: str, workdir: Path, **env: str) -> None:
        self.bootstrap, self.prefix, self.workdir = bootstrap, prefix, workdir
        self.port = free_port()
        self.key = workdir / "gw-test-1.pem"
        if not self.key.exists():
            subprocess.run([str(GKT), "keys", "new", "--kid", "gw-test-1", "--out", str(workdir)], check=True)
        self.env = {
            **os.environ,
            "GKT_SIGNING_KEY": str(self.key),
            "GKT_SIGNING_KID": "gw-test-1",
            "GKT_CLIENT_KEY_FILE": client_key_file(workdir),
            "GKT_SESSION_TIMEOUT_MS": "2000",
            "GKT_HEARTBEAT_INTERVAL_MS": "300",
            "GKT_GROUP_ID": f"{prefix}gw",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / "gateway.log"

    def start(self, ready_within: float = 60, *extra: str) -> "GatewayProcess":
        self.starts += 1
        command = [str(GKT), "run", "--bootstrap", self.bootstrap, "--topic-prefix", self.prefix]
        command += ["--http-port", str(self.port), "--allow-test-oins", *extra]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + ready_within
        while self.readyz() != 200:
            if self.process.poll() is not None:
                raise AssertionError(f"gkt run exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"gkt run never became ready:\n{self.log_path.read_text()[-5000:]}")
            time.sleep(0.1)
        return self

    def readyz(self) -> int:
        return http_get(self.port, "/readyz")[0]

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process is not None else None

    def stop(self) -> int:
        return terminate(self.process, timeout=30) if self.process is not None else 0

    def log_lines(self) -> list[dict[str, Any]]:
        """Every line of the log, each of which must be one JSON object."""
        return self.read_log(self.log_path)

    @staticmethod
    def read_log(path: Path) -> list[dict[str, Any]]:
        return GatewayProcess.parse_log(path.read_text())

    @staticmethod
    def parse_log(text: str) -> list[dict[str, Any]]:
        """Each line one JSON object: a line that is not (a traceback, a stray print) fails the test here."""
        return [json.loads(line) for line in text.splitlines() if line.strip()]
