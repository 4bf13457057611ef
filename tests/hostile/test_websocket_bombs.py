"""WebSocket compression bombs from clients that do not read: frames are inflated only while the echo waits for a
message, so a connection holds at most the message it echoes (counted in the budget) and the one being inflated.

With permessage-deflate on (uvicorn's default) a 16 KiB frame inflates to 16 MiB; one read of such frames used to
be inflated whole and queued for the app (16 reads' worth: +256 MiB per connection) before the budget saw any.
"""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect

from bench.bodies import rss_bytes
from tests.hostile.test_websocket_output import deflated_message, opened
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server

MIB = 1024 * 1024
CLIENTS = 10
BOMB = deflated_message(b"\x00" * (16 * MIB))  # about 16 KiB on the wire


@pytest.fixture
def bombed(server_pool: ServerPool) -> RunningServer:
    return server_pool.get((), {"ECHO_TEST_ISOLATION": "websocket-bombs"})


async def test_bombs_from_clients_that_do_not_read_stay_within_the_budget(bombed: RunningServer) -> None:
    before = rss_bytes(bombed.process.pid)
    writers = []
    try:
        for _ in range(CLIENTS):
            _, writer = await opened(bombed.port, deflate=True)
            writer.write(BOMB * 16)  # 16 messages in about one read: 256 MiB inflated
            writers.append(writer)
        await asyncio.sleep(3)
        grown = rss_bytes(bombed.process.pid, "VmHWM") - before
        # Per connection the message being echoed and the one being inflated, with room for the allocator.
        assert grown < CLIENTS * 2 * 16 * MIB + 64 * MIB, f"grew {grown / MIB:.0f} MiB"
    finally:
        for writer in writers:
            writer.transport.abort()
        await asyncio.sleep(0)


async def test_bombs_are_inflated_one_message_at_a_time(server_pool: ServerPool) -> None:
    small = server_pool.get((), {"ECHO_MAX_INFLIGHT_BYTES": str(40 * MIB)})
    before = rss_bytes(small.process.pid)
    reader, writer = await opened(small.port, deflate=True)
    try:
        writer.write(BOMB * 64)  # 1 GiB inflated, in about 1 MiB
        await asyncio.sleep(3)
        grown = rss_bytes(small.process.pid, "VmHWM") - before
        # The message the echo holds, the one being inflated, their zlib buffers; it was 1 GiB.
        assert grown < 6 * 16 * MIB, f"grew {grown / MIB:.0f} MiB"
        first, _ = await asyncio.wait_for(reader.readexactly(2), 5)
        assert first == 0x80 | 0x40 | 0x2, f"not a compressed binary echo: {first:#x}"
    finally:
        writer.transport.abort()
        await asyncio.sleep(0)


async def test_a_compressed_burst_is_echoed_whole_and_in_order(bombed: RunningServer) -> None:
    # Held-back input is parsed as the echo asks for messages: fragments, pings and many messages per read.
    messages = [bytes([index % 251]) * (index * 997 % 70_000) for index in range(200)]
    async with connect(f"ws://127.0.0.1:{bombed.port}/burst", max_size=None) as client:
        assert client.protocol.extensions, "permessage-deflate was not negotiated"
        for index, message in enumerate(messages):
            if index % 7 == 0:
                await client.send([message[: len(message) // 2], message[len(message) // 2 :]])  # fragmented
            else:
                await client.send(message)
            if index % 50 == 0:
                await client.ping()
        echoed = [await asyncio.wait_for(client.recv(), 10) for _ in messages]
    assert echoed == messages
