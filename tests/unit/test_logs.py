"""The log is one JSON object per line, also when several processes share one stderr (``gkt run --workers``)."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.logs import RepeatFilter

# Each process logs through structlog and through the standard library (as aiokafka does), lines long
# enough that a write split in two would let another process's line in between.
_WRITER = """
import logging, structlog
from gateway.logs import configure
configure("info")
log = structlog.get_logger("gkt.test")
lib = logging.getLogger("aiokafka.test")
for n in range({lines}):
    log.info("line", worker={worker}, n=n, pad="x" * 700)
    lib.warning(f"library line {{n}} " + "y" * 300)  # each its own: not held back as a repeat
"""


def test_processes_sharing_stderr_never_glue_lines(tmp_path: Path) -> None:
    workers, lines = 3, 1500
    path = tmp_path / "gkt.log"
    with path.open("ab") as log:
        processes = [
            subprocess.Popen([sys.executable, "-c", _WRITER.format(lines=lines, worker=worker)], stdout=log, stderr=log)
            for worker in range(workers)
        ]
        assert all(p.wait(timeout=120) == 0 for p in processes)
    parsed = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(parsed) == workers * lines * 2
    assert {(d["worker"], d["n"]) for d in parsed if d["event"] == "line"} == {
        (w, n) for w in range(workers) for n in range(lines)
    }


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("aiokafka", logging.WARNING, __file__, 1, message, None, None)


@pytest.mark.parametrize("repeats", [1, 5, 200])
def test_a_repeated_library_line_is_written_once_a_window_with_its_count(repeats: int) -> None:
    clock = iter(range(0, 10_000))
    repeat = RepeatFilter(window_seconds=1_000, clock=lambda: float(next(clock)))
    passed = [repeat.filter(_record("Unable connect to node")) for _ in range(repeats)]
    assert passed == [True] + [False] * (repeats - 1)
    assert repeat.filter(_record("another message")), "another message is not held back"
    for _ in range(1_000):
        next(clock)  # the window passes
    record = _record("Unable connect to node")
    assert repeat.filter(record)
    assert getattr(record, "repeated", 0) == repeats - 1


def test_the_service_log_lets_aiokafka_through_that_the_command_line_quiets() -> None:
    """gkt's main quiets aiokafka (a command says what failed in one line of its own); gkt run's log must not."""
    script = (
        "import logging; from gateway.logs import configure\n"
        "logging.getLogger('aiokafka').setLevel(logging.CRITICAL + 1)  # as gateway.cli.app.main leaves it\n"
        "configure('info')\n"
        "logging.getLogger('aiokafka.conn').warning('broker gone')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    [line] = result.stderr.splitlines()
    assert json.loads(line)["event"] == "broker gone"
