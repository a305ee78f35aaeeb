"""Headless Chromium over the DevTools protocol on a pipe (``--remote-debugging-pipe``): open a page, hear its
console, errors and requests, ask it questions, take a screenshot. No WebSocket library and no browser download:
Debian's ``chromium`` and the standard library are all it needs.

The protocol on the pipe: JSON messages, each ended by a NUL byte; commands on fd 3, answers and events on fd 4.
"""

import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


def _as_3_and_4(reads: int, writes: int) -> None:
    """In the child: the command pipe on fd 3, the answer pipe on fd 4 (copied above 10 first, so neither
    overwrites the other whatever numbers they had)."""
    high_reads, high_writes = fcntl.fcntl(reads, fcntl.F_DUPFD, 10), fcntl.fcntl(writes, fcntl.F_DUPFD, 10)
    os.dup2(high_reads, 3)
    os.dup2(high_writes, 4)


@dataclass
class Visit:
    """What a page did while it loaded: console messages and exceptions at error level, and every URL it asked."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class Browser:
    def __init__(self) -> None:
        assert BROWSER is not None, (
            "Debian's chromium is not installed: `make test` installs it (apt-get, as root); without it the "
            "report page cannot be checked"
        )
        to_child, self._commands = os.pipe()
        self._answers, from_child = os.pipe()
        command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "about:blank"]
        self._process = subprocess.Popen(
            command,
            close_fds=False,  # the pipes land on fds 3 and 4 in the child (preexec_fn); others are not inheritable
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=lambda: _as_3_and_4(to_child, from_child),  # noqa: PLW1509
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next = 0
        self._events: list[dict[str, Any]] = []
        self._session: str | None = None

    def _send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session and self._session is not None:
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read(deadline=time.monotonic() + 60)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            self._events.append(answer)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._answers, 65536)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def open(self, path: Path, width: int = 1200, height: int = 900) -> Visit:
        """Load ``path`` in a fresh tab; what it logged and asked for until its load event."""
        target = self._send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        attached = self._send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)
        self._session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self._send(f"{domain}.enable")
        self._send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                           "deviceScaleFactor": 1, "mobile": False})  # fmt: skip
        self._events.clear()
        self._send("Page.navigate", {"url": path.as_uri()})
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._events.append(self._read(deadline))
        return self._visit()

    def _visit(self) -> Visit:
        visit = Visit()
        for event in self._events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
                visit.errors.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                visit.errors.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                visit.errors.append(f"log: {params['entry'].get('text')}")
            elif method == "Network.requestWillBeSent":
                visit.requests.append(str(params.get("request", {}).get("url")))
        return visit

    def evaluate(self, expression: str) -> Any:
        return self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"].get("value")

    def screenshot(self) -> bytes:
        shot = self._send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self._send("Browser.close", session=False)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        os.close(self._commands)
        os.close(self._answers)
