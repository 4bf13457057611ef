"""A client that pipelines requests and reads nothing cannot make the server's memory grow without bound.

The server stops reading while answers wait to be written or 16 parsed requests wait for their turn; the
kernel's socket buffers then hold the rest, and the client's writes stall. Once it reads, every request it
sent is answered, in order.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bench.bodies import rss_bytes
from tests.rawhttp import exchange, read_response
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server

MIB = 1024 * 1024
SEND_FOR_S = 3.0
#: Growth allowed while the client reads nothing: one read of parsed requests and the queued answers.
MAX_GROWTH_BYTES = 48 * MIB


@pytest.fixture
def fresh(server_pool: ServerPool) -> RunningServer:
    # Its own server (other tests' traffic would move its memory): a distinct, harmless environment.
    return server_pool.get((), {"ASGI_ECHO_TEST_ISOLATION": "pipelining"})


def request(index: int) -> bytes:
    return b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % index


async def test_pipelined_requests_nobody_reads_keep_memory_bounded(fresh: RunningServer) -> None:
    before = rss_bytes(fresh.process.pid)
    reader, writer = await asyncio.open_connection("127.0.0.1", fresh.port)
    sent = 0

    async def flood() -> None:
        nonlocal sent
        batch = 2000
        while True:
            writer.write(b"".join(request(sent + offset) for offset in range(batch)))
            await writer.drain()  # stalls once the server stops reading and the buffers are full
            sent += batch

    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(flood(), SEND_FOR_S)
        grown = rss_bytes(fresh.process.pid) - before
        assert grown < MAX_GROWTH_BYTES, f"{grown / MIB:.0f} MiB for {sent} requests nobody read"
        # Meanwhile the server serves everyone else.
        assert (await exchange(fresh.port, request(0))).status == 200
        # The first answers come back in order once the client reads.
        for index in range(50):
            response = await read_response(reader)
            assert response.content.startswith(b"METHOD: GET\nTARGET: /%d\n" % index)
    finally:
        writer.transport.abort()  # unsent bytes may remain: drop them, do not wait for the server to read
        await asyncio.sleep(0)
