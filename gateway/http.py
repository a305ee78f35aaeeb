"""``/healthz``, ``/readyz``, Prometheus ``/metrics`` and the gateway's public keys as a small ASGI app.

``/.well-known/jwks.json`` is the JWK set partners and consumers verify
receipts and signals with (``gkt keys fetch`` pins it); operators expose that
path, and only that path, to them (docs/operations.md).
"""

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.errors import ConfigError
from gateway.metrics import REGISTRY

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def _own_metrics() -> bytes:
    return generate_latest(REGISTRY)


JWKS_PATH = "/.well-known/jwks.json"


def health_app(
    ready: Callable[[], bool], metrics: Callable[[], Awaitable[bytes]] = _own_metrics, jwks: bytes | None = None
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """``metrics``: this process's registry, or (``gkt run --workers``) every worker's, labelled;
    ``jwks``: the gateway's public keys as served at ``JWKS_PATH`` (404 when not given)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/healthz":
            status, body, ctype = 200, b"ok\n", b"text/plain"
        elif path == "/readyz":
            is_ready = ready()
            status, body, ctype = (200, b"ready\n", b"text/plain") if is_ready else (503, b"not ready\n", b"text/plain")
        elif path == "/metrics":
            status, body, ctype = 200, await metrics(), CONTENT_TYPE_LATEST.encode()
        elif path == JWKS_PATH and jwks is not None:
            status, body, ctype = 200, jwks, b"application/jwk-set+json"
        else:
            status, body, ctype = 404, b"not found\n", b"text/plain"
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", ctype)]})
        await send({"type": "http.response.body", "body": body})

    return app


class HttpServer:
    """Runs the health app on 127.0.0.1 or 0.0.0.0 in the service's event loop."""

    def __init__(
        self,
        ready: Callable[[], bool],
        port: int,
        host: str = "0.0.0.0",  # noqa: S104 - probes come from outside the container
        metrics: Callable[[], Awaitable[bytes]] = _own_metrics,
        jwks: bytes | None = None,
    ) -> None:
        app = health_app(ready, metrics, jwks)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen, or fail with one line naming the port (uvicorn would exit the process with a traceback)."""
        config = self._server.config
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((config.host, config.port))
            except OSError as exc:
                raise ConfigError(f"--http-port {config.port}: cannot listen on it ({exc.strerror})") from exc
        self._task = asyncio.create_task(self._server.serve(), name="http")
        while not self._server.started:
            if self._task.done():
                try:
                    self._task.result()
                except (OSError, SystemExit) as exc:
                    raise ConfigError(f"--http-port {config.port}: the health server did not start") from exc
                raise ConfigError(f"--http-port {config.port}: the health server stopped at start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
