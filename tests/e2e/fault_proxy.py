"""A TCP proxy between the gateway and the broker that a test can cut: refuse, black-hole (half-open), or
lose the connection that carries a Produce request (before or after it reaches the broker).

tansu advertises the proxy's port (``EmbeddedBroker(advertised_port=...)``),
so every connection, after bootstrap too, goes through it. Only 127.0.0.1.
"""

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, Literal

Mode = Literal["open", "refuse", "blackhole", "lose_produce"]
PRODUCE = 0  # the Produce request's api_key: the int16 after a request's 4-byte size


class FaultProxy:
    def __init__(self, listen_port: int, target_port: int) -> None:
        self.listen_port, self.target_port = listen_port, target_port
        self.mode: Mode = "open"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._deliver_lost = False
        self.lost = 0  # Produce requests whose connection was lost

    def start(self) -> "FaultProxy":
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _shutdown(self) -> None:
        await self._close_all(stop_listening=True)
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def refuse(self) -> None:
        """The broker's port is closed: new connections are refused, open ones are reset."""
        self.mode = "refuse"
        self._call(self._close_all(stop_listening=True))

    def blackhole(self) -> None:
        """Connections are accepted and kept, but nothing passes either way (a half-open network)."""
        self.mode = "blackhole"

    def lose_produce(self, *, delivered: bool) -> None:
        """Every connection that carries a Produce request is reset before any answer: the request reaches the
        broker first when ``delivered``, else never. The client cannot tell which (a write that may have
        happened); everything else passes."""
        self._deliver_lost = delivered
        self.mode = "lose_produce"

    def restore(self) -> None:
        """Back to normal; connections that lived through a black hole are closed, as a timed-out peer would."""
        previous, self.mode = self.mode, "open"
        if previous == "refuse":
            self._call(self._listen())
        else:
            self._call(self._close_all(stop_listening=False))

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.listen_port, reuse_address=True)

    async def _close_all(self, *, stop_listening: bool) -> None:
        if stop_listening and self._server is not None:
            self._server.close()
            self._server = None
        writers, self._writers = list(self._writers), set()
        for writer in writers:
            writer.close()
        for writer in writers:
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        if self.mode in ("refuse", "blackhole"):
            await self._drain(reader)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.add(upstream_writer)
        await asyncio.gather(
            self._requests(reader, upstream_writer, writer), self._pump(upstream_reader, writer, upstream_writer)
        )

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, other: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65_536):
                if self.mode in ("open", "lose_produce"):
                    writer.write(data)
                    await writer.drain()
        writer.close()
        other.close()

    async def _requests(
        self, reader: asyncio.StreamReader, upstream: asyncio.StreamWriter, client: asyncio.StreamWriter
    ) -> None:
        """Client to broker, one request at a time (size, then body), so that a Produce request can be lost."""
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                size = await reader.readexactly(4)
                body = await reader.readexactly(int.from_bytes(size, "big"))
                if self.mode == "lose_produce" and int.from_bytes(body[:2], "big", signed=True) == PRODUCE:
                    self.lost += 1
                    client.close()  # first: the broker's answer must not reach the client
                    if self._deliver_lost:
                        upstream.write(size + body)
                        await upstream.drain()
                        await asyncio.sleep(0.5)  # the broker writes it before its connection goes too
                    break
                if self.mode in ("open", "lose_produce"):
                    upstream.write(size + body)
                    await upstream.drain()
        upstream.close()
        client.close()

    async def _drain(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(OSError):
            while await reader.read(65_536):
                pass
