"""A loopback TCP proxy in front of the embedded broker that lets one Produce request through at a time.

tansu 0.6.0 (memory storage) can lose an acknowledged record batch when two
connections produce to one partition at the same moment: both are answered
without error, one is never stored. ``python -m bench.tansu_race`` shows it
(6 rounds in 1,500 with four producers; more on a loaded machine). One gateway process has one producer, and aiokafka
keeps one Produce request in flight per broker, so it never races itself;
several processes (``gkt run --workers N``, the kill tests) would. Apache Kafka
has no such defect and needs no gate.

The gate reads the Kafka framing only (a 4-byte size, then the request header):
a Produce request (API key 0) waits for the gate, and the gate opens again when
its response (matched by correlation id) comes back, or its connection closes.
A Produce with ``acks=0`` gets no response, so it opens the gate once sent.
Everything else passes untouched. ``EmbeddedBroker`` has tansu advertise the
gate's port, so every connection after bootstrap goes through it too.

Run as ``python -m gateway.kafka.produce_gate LISTEN_PORT BROKER_PORT``; it ends
with its parent (Linux) or on SIGTERM.
"""

import asyncio
import contextlib
import signal
import struct
import sys

_PRODUCE = 0
_FIRST_FLEXIBLE_PRODUCE = 9  # request header v2: tagged fields, compact strings in the body
_MAX_FRAME = 256 * 1024 * 1024  # what a broker would refuse anyway; bounds what a client can make us hold


def acks_of(request: bytes) -> int | None:
    """The ``acks`` of a Produce request (after the 4-byte size), or None if it cannot be read."""
    try:
        version = struct.unpack_from(">h", request, 2)[0]
        at = 8  # api key, api version, correlation id
        (client_id,) = struct.unpack_from(">h", request, at)
        at += 2 + max(client_id, 0)
        if version >= _FIRST_FLEXIBLE_PRODUCE:
            tags, at = _uvarint(request, at)
            for _ in range(tags):
                _, at = _uvarint(request, at)
                size, at = _uvarint(request, at)
                at += size
            length, at = _uvarint(request, at)  # compact nullable transactional id: length + 1
            at += max(length - 1, 0)
        elif version >= 3:
            (length,) = struct.unpack_from(">h", request, at)
            at += 2 + max(length, 0)
        (acks,) = struct.unpack_from(">h", request, at)
        return int(acks)
    except (struct.error, IndexError):
        return None


def _uvarint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


async def _frame(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readexactly(4)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    (size,) = struct.unpack(">i", head)
    if not 0 < size <= _MAX_FRAME:
        return None
    try:
        return await reader.readexactly(size)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


class ProduceGate:
    """Serves ``listen_port``, forwarding to the broker on ``broker_port``; one Produce in flight at a time."""

    def __init__(self, listen_port: int, broker_port: int) -> None:
        self.listen_port, self.broker_port = listen_port, broker_port
        self._gate = asyncio.Lock()

    async def serve(self) -> None:
        server = await asyncio.start_server(self._connection, "127.0.0.1", self.listen_port, reuse_address=True)
        async with server:
            await server.serve_forever()

    async def _connection(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        try:
            broker_in, broker_out = await asyncio.open_connection("127.0.0.1", self.broker_port)
        except OSError:
            client_out.close()
            return
        awaited: set[int] = set()  # correlation ids of this connection's Produce requests holding the gate
        requests = asyncio.create_task(self._requests(client_in, broker_out, awaited))
        responses = asyncio.create_task(self._responses(broker_in, client_out, awaited))
        try:
            await asyncio.wait({requests, responses}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (requests, responses):
                task.cancel()
            await asyncio.gather(requests, responses, return_exceptions=True)
            if awaited and self._gate.locked():
                self._gate.release()  # the connection died with its Produce unanswered
            for writer in (client_out, broker_out):
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    async def _requests(self, source: asyncio.StreamReader, broker: asyncio.StreamWriter, awaited: set[int]) -> None:
        while (request := await _frame(source)) is not None:
            produce = len(request) >= 8 and struct.unpack_from(">h", request)[0] == _PRODUCE
            if produce:
                await self._gate.acquire()
                if acks_of(request) == 0:
                    self._gate.release()  # no response will come to open it
                else:
                    awaited.add(struct.unpack_from(">i", request, 4)[0])
            broker.write(struct.pack(">i", len(request)) + request)
            await broker.drain()

    async def _responses(self, broker: asyncio.StreamReader, client: asyncio.StreamWriter, awaited: set[int]) -> None:
        while (response := await _frame(broker)) is not None:
            correlation = struct.unpack_from(">i", response)[0] if len(response) >= 4 else None
            client.write(struct.pack(">i", len(response)) + response)
            await client.drain()
            if correlation in awaited:
                awaited.discard(correlation)
                self._gate.release()


def main() -> None:  # pragma: no cover - run as a process by EmbeddedBroker
    listen_port, broker_port = int(sys.argv[1]), int(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(ProduceGate(listen_port, broker_port).serve())


if __name__ == "__main__":  # pragma: no cover
    main()
