"""A client that never reads its answer cannot hold the server's memory: ``ECHO_WRITE_TIMEOUT_S``.

Only time with output pending counts: a response that makes no write progress for that long is abandoned,
the connection closed, and what the request held released, so later uploads are served again.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.rawhttp import exchange
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server

MIB = 1024 * 1024
UPLOAD_BYTES = 10 * MIB  # ECHO_MAX_BODY_BYTES's default: its echo is far larger than the socket buffers


@pytest.fixture
def stalling(server_pool: ServerPool) -> RunningServer:
    # Room in memory for one upload at a time: a stalled client would hold it for good without the timeout.
    return server_pool.get((), {"ECHO_WRITE_TIMEOUT_S": "1", "ECHO_MAX_INFLIGHT_BYTES": str(12 * MIB)})


def upload(target: str) -> bytes:
    head = f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {UPLOAD_BYTES}\r\n\r\n".encode()
    return head + b"a" * UPLOAD_BYTES


async def test_a_response_nobody_reads_is_abandoned_and_its_memory_released(stalling: RunningServer) -> None:
    with stalling.clean_log():
        reader, writer = await asyncio.open_connection("127.0.0.1", stalling.port)
        try:
            writer.write(upload("/stalled"))
            await writer.drain()
            # While the first client sits on its answer, the budget is taken: the next upload waits its turn.
            busy = await exchange(stalling.port, upload("/second"))
            assert busy.status == 503
            await asyncio.sleep(2.5)  # past ECHO_WRITE_TIMEOUT_S: the stalled response is abandoned
            served = await exchange(stalling.port, upload("/third"))
            assert served.status == 200
            # The stalled client's connection was closed: what it reads now ends early.
            received = 0
            while chunk := await asyncio.wait_for(reader.read(1 << 20), 5):
                received += len(chunk)
            assert received < UPLOAD_BYTES
        finally:
            writer.transport.abort()
            await asyncio.sleep(0)
    assert any("ECHO_WRITE_TIMEOUT_S" in line for line in stalling.log)


async def test_a_slow_delay_is_not_a_write_stall(stalling: RunningServer) -> None:
    # echo_delay keeps the answer back for longer than the write timeout, with no output pending.
    response = await exchange(stalling.port, b"GET /late?echo_delay=2000 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.status == 200
