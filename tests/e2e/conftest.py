"""End-to-end tests run the installed ``gkt`` command as a user would."""

import subprocess
import sys
from pathlib import Path

import pytest

GKT = Path(sys.executable).parent / "gkt"


def gkt(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GKT), *args], capture_output=True, text=True, timeout=timeout, env=env, check=False)


@pytest.fixture
def event_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(value: bytes, name: str = "event.json") -> Path:
        path = tmp_path / name
        path.write_bytes(value)
        return path

    return write
