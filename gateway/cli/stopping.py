"""How a long-running ``gkt`` process ends: on a signal, or on an error, with one JSON ``exiting`` line.

Operators and supervisors read the last line of the log to learn why a
process ended (docs/operations.md). Whatever ends it, that line is
``{"event": "exiting", "reason": …, "exit_code": …}``, written after every
client is closed; no traceback follows it, and nothing but JSON reaches the log.
An error we did not foresee (a bug) is named by its type and where it was
raised, not by its message: a message may carry data the process was handling.
"""

import asyncio
import signal
import traceback

import structlog

from gateway.errors import GatewayError

log = structlog.get_logger("gkt.run")


class Stop:
    """An event set by SIGTERM or SIGINT, remembering which came first."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.signal: str | None = None

    def install(self) -> "Stop":
        """Handle SIGTERM and SIGINT in the running loop: no KeyboardInterrupt in the middle of a batch."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._received, signum)
        return self

    def _received(self, signum: int) -> None:
        if self.signal is None:
            self.signal = signal.Signals(signum).name
        self.event.set()


def failure_reason(exc: Exception) -> str:
    """Why the process ends: a gateway error says it itself; anything else by type and place only."""
    if isinstance(exc, GatewayError):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    return f"unexpected {type(exc).__name__}{where}; exiting for a restart"


def exiting(stop: Stop, failure: Exception | None) -> int:
    """Log the one ``exiting`` line and return the exit code (0 after a signal, 1 after a failure)."""
    if failure is not None:
        reason, code = failure_reason(failure), 1
        log.error("exiting", reason=reason, exit_code=code)
        return code
    reason = f"{stop.signal} received" if stop.signal else "stopped"
    log.info("exiting", reason=reason, exit_code=0)
    return 0
