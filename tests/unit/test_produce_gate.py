"""The produce gate: one Produce request reaches the broker at a time, anything else passes, nothing sticks."""

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator

import pytest
from aiokafka.protocol import produce
from hypothesis import given
from hypothesis import strategies as st

from gateway.kafka.embedded import free_port
from gateway.kafka.produce_gate import ProduceGate, acks_of

_PRODUCE, _METADATA = 0, 3
NEVER_ANSWERED = 666  # a correlation id the fake broker keeps without answer


def aiokafka_produce(version: int, acks: int, correlation: int, transactional_id: str | None = None) -> bytes:
    """A Produce request as aiokafka encodes it (after the 4-byte size)."""
    struct_class = getattr(produce, f"ProduceRequest_v{version}")
    request = produce.ProduceRequest(transactional_id, acks, 1000, []).build(struct_class)
    return bytes(request.build_request_header(correlation, "gkt-gateway").encode() + request.encode())


def flexible_produce(acks: int, correlation: int, transactional_id: bytes | None) -> bytes:
    """A Produce v9 request (header v2 with a tagged field, compact strings), as Java clients send it."""
    header = struct.pack(">hhih", _PRODUCE, 9, correlation, 4) + b"java" + bytes([1, 0, 2]) + b"xy"
    tx = uvarint(0) if transactional_id is None else uvarint(len(transactional_id) + 1) + transactional_id
    return header + tx + struct.pack(">hi", acks, 1000) + bytes([1, 0])


def uvarint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


@pytest.mark.parametrize("version", range(9))
@pytest.mark.parametrize("acks", [-1, 0, 1])
def test_acks_are_read_from_every_produce_version(version: int, acks: int) -> None:
    transactional = "tx-1" if version >= 3 else None
    assert acks_of(aiokafka_produce(version, acks, 7, transactional)) == acks


@pytest.mark.parametrize("transactional_id", [None, b"", b"tx-long-id" * 20])
@pytest.mark.parametrize("acks", [-1, 0, 1])
def test_acks_are_read_from_a_flexible_produce(acks: int, transactional_id: bytes | None) -> None:
    assert acks_of(flexible_produce(acks, 7, transactional_id)) == acks


@pytest.mark.parametrize("garbage", [b"", b"\x00\x00", b"\x00\x00\x00\x09\x00\x00\x00\x01\x7f\xff", b"\x00" * 9])
def test_a_truncated_request_has_no_acks(garbage: bytes) -> None:
    assert acks_of(garbage) is None


class FakeBroker:
    """Answers every request after ``hold`` seconds (a Produce) or at once; counts Produce requests in flight."""

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.port = free_port()
        self.in_flight = 0
        self.most_in_flight = 0

    async def serve(self) -> None:
        server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)
        async with server:
            await server.serve_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.closing(writer), contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                (size,) = struct.unpack(">i", await reader.readexactly(4))
                request = await reader.readexactly(size)
                api_key, _, correlation = struct.unpack_from(">hhi", request)
                if correlation == NEVER_ANSWERED or (api_key == _PRODUCE and acks_of(request) == 0):
                    continue
                if api_key == _PRODUCE:
                    self.in_flight += 1
                    self.most_in_flight = max(self.most_in_flight, self.in_flight)
                    await asyncio.sleep(self.hold)
                    self.in_flight -= 1
                writer.write(struct.pack(">ii", 4, correlation))
                await writer.drain()


@contextlib.asynccontextmanager
async def gated(hold: float) -> AsyncIterator[tuple[FakeBroker, int]]:
    broker = FakeBroker(hold)
    gate = ProduceGate(free_port(), broker.port)
    tasks = [asyncio.create_task(broker.serve()), asyncio.create_task(gate.serve())]
    await asyncio.sleep(0.05)
    try:
        yield broker, gate.listen_port
    finally:
        await asyncio.sleep(0.05)  # the connections the test closed wind down first
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> "Client":
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, request: bytes) -> None:
        self.writer.write(struct.pack(">i", len(request)) + request)
        await self.writer.drain()

    async def answer(self, within: float = 5.0) -> int:
        async with asyncio.timeout(within):
            (size,) = struct.unpack(">i", await self.reader.readexactly(4))
            return int(struct.unpack(">i", await self.reader.readexactly(size))[0])

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


def metadata(correlation: int) -> bytes:
    return struct.pack(">hhih", _METADATA, 1, correlation, 3) + b"gkt" + struct.pack(">i", 0)


async def test_produce_requests_of_many_connections_reach_the_broker_one_at_a_time() -> None:
    async with gated(hold=0.02) as (broker, port):
        clients = [await Client.connect(port) for _ in range(4)]
        for n in range(3):
            await asyncio.gather(*(c.send(aiokafka_produce(7, -1, 10 * n + i)) for i, c in enumerate(clients)))
            answers = await asyncio.gather(*(c.answer() for c in clients))
            assert answers == [10 * n + i for i in range(len(clients))], "each its own answer"
        assert broker.most_in_flight == 1
        for client in clients:
            await client.close()


async def test_other_requests_pass_a_produce_in_flight() -> None:
    async with gated(hold=1.0) as (broker, port):
        producing, asking = await Client.connect(port), await Client.connect(port)
        await producing.send(aiokafka_produce(7, -1, 1))
        await asyncio.sleep(0.05)
        await asking.send(metadata(2))
        assert await asking.answer(within=0.5) == 2, "metadata does not wait for the Produce"
        assert broker.in_flight == 1
        assert await producing.answer() == 1
        await producing.close()
        await asking.close()


async def test_a_connection_gone_with_its_produce_unanswered_opens_the_gate() -> None:
    async with gated(hold=0.0) as (_, port):
        lost = await Client.connect(port)
        await lost.send(aiokafka_produce(7, -1, NEVER_ANSWERED))
        await asyncio.sleep(0.05)
        await lost.close()
        other = await Client.connect(port)
        await other.send(aiokafka_produce(7, -1, 3))
        assert await other.answer(within=2.0) == 3
        await other.close()


async def test_a_produce_without_acks_does_not_hold_the_gate() -> None:
    async with gated(hold=0.0) as (_, port):
        silent, other = await Client.connect(port), await Client.connect(port)
        await silent.send(aiokafka_produce(7, 0, 4))  # acks=0: the broker never answers it
        await asyncio.sleep(0.05)
        await other.send(aiokafka_produce(7, -1, 5))
        assert await other.answer(within=2.0) == 5
        await silent.close()
        await other.close()


@given(st.binary(max_size=512))
def test_any_bytes_give_acks_or_none_never_an_error(request: bytes) -> None:
    acks = acks_of(request)
    assert acks is None or -32768 <= acks <= 32767


@given(st.integers(-1, 1), st.binary(max_size=64), st.integers(0, 40))
def test_a_flexible_produce_cut_anywhere_gives_its_acks_or_none(acks: int, tx: bytes, cut: int) -> None:
    request = flexible_produce(acks, 7, tx)
    assert acks_of(request[: len(request) - cut]) in (acks, None)
