"""Progress of the long audit commands, for a person at a terminal and for a log collector alike.

On a terminal: rich's bar. Anywhere else (a pipe, a CI job, a container's log)
rich shows nothing, and a replay that runs for minutes looked hung: there, one
plain line on stderr at most every ``every`` seconds — records done (of how
many, when known), the rate and the time left — and one line when it ends.
"""

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

PLAIN_EVERY_SECONDS = 10.0


class PlainProgress:
    """The part of rich's ``Progress`` the audit commands use, as periodic lines (one task at a time)."""

    def __init__(
        self, out: TextIO, every: float = PLAIN_EVERY_SECONDS, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._out, self._every, self._now = out, every, now
        self._description, self._total, self._done = "", 0.0, 0
        self._started = self._said = 0.0

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None and self._description:
            seconds = self._now() - self._started
            self._line(f"{self._description}: done, {self._done:,} records in {seconds:.1f} s")

    def add_task(self, description: str, total: float | None = None) -> TaskID:
        self._description, self._total, self._done = description, total or 0.0, 0
        self._started = self._said = self._now()
        return TaskID(0)

    def update(self, task: TaskID, *, total: float | None = None, completed: float | None = None) -> None:
        if total is not None:
            self._total = total
        if completed is not None:
            self._done = int(completed)
        self._maybe_say()

    def advance(self, task: TaskID, advance: float = 1) -> None:
        self._done += int(advance)
        self._maybe_say()

    def _maybe_say(self) -> None:
        now = self._now()
        if now - self._said < self._every:
            return
        self._said = now
        rate = self._done / max(now - self._started, 1e-9)
        of = f" of {int(self._total):,}" if self._total else ""
        left = ""
        if self._total and rate > 0 and self._total > self._done:
            left = f", about {(self._total - self._done) / rate:.0f} s left"
        self._line(f"{self._description}: {self._done:,}{of} records, {rate:,.0f}/s{left}")

    def _line(self, text: str) -> None:
        print(text, file=self._out, flush=True)


def progress(console: Console) -> "Progress | PlainProgress":
    """rich's bar on a terminal, plain lines elsewhere (``console`` writes to stderr)."""
    if console.is_terminal:
        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
        return Progress(*columns, TimeElapsedColumn(), console=console, transient=True)
    return PlainProgress(sys.stderr)
