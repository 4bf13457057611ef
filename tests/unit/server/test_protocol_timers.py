"""Timers of a connection end with it, however it ends: uvicorn cancels the keep-alive timer only when the
connection closes cleanly, so a reset one stayed referenced (protocol, parser, buffers) until the timer fired."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.server import ServerState

from app.server.protocol import EchoHttpToolsProtocol
from tests.fake_transport import FakeTransport


async def no_content(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def answered_protocol() -> EchoHttpToolsProtocol:
    """A protocol that has answered one request and waits, its keep-alive timer armed."""
    config = Config(app=no_content, http=EchoHttpToolsProtocol, lifespan="off", log_level="warning")
    config.load()
    protocol = EchoHttpToolsProtocol(config, ServerState(), {}, _loop=asyncio.get_running_loop())
    protocol.connection_made(FakeTransport())  # type: ignore[arg-type]
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    for _ in range(10):
        await asyncio.sleep(0)
    assert protocol.timeout_keep_alive_task is not None
    return protocol


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(None, id="closed"),
        pytest.param(ConnectionResetError(104, "Connection reset by peer"), id="reset"),
        pytest.param(BrokenPipeError(32, "Broken pipe"), id="broken-pipe"),
    ],
)
async def test_the_keep_alive_timer_ends_with_the_connection(exc: Exception | None) -> None:
    protocol = await answered_protocol()
    protocol.connection_lost(exc)
    assert protocol.timeout_keep_alive_task is None
