"""``TlsBoundedLoop``: TLS servers get the head timeout for their handshakes and the write timeout for their
closes; servers without TLS and timeouts a caller set are left alone."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest

from app.server.event_loop import TlsBoundedLoop, tls_bounds
from app.settings import Settings

SETTINGS = Settings(header_timeout_s=2.5, write_timeout_s=7.0)
CONTEXT = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param({"host": "127.0.0.1"}, {"host": "127.0.0.1"}, id="no-tls"),
        pytest.param({"ssl": None}, {"ssl": None}, id="tls-none"),
        pytest.param(
            {"ssl": CONTEXT},
            {"ssl": CONTEXT, "ssl_handshake_timeout": 2.5, "ssl_shutdown_timeout": 7.0},
            id="tls-bounded",
        ),
        pytest.param(
            {"ssl": CONTEXT, "ssl_handshake_timeout": 1.0, "ssl_shutdown_timeout": None},
            {"ssl": CONTEXT, "ssl_handshake_timeout": 1.0, "ssl_shutdown_timeout": 7.0},
            id="caller-value-kept",
        ),
    ],
)
def test_tls_bounds(given: dict[str, Any], expected: dict[str, Any]) -> None:
    assert tls_bounds(given, SETTINGS) == expected


def test_the_loop_runs_coroutines_and_serves_without_tls() -> None:
    async def served_port() -> int:
        server = await asyncio.get_running_loop().create_server(asyncio.Protocol, "127.0.0.1", 0)
        port: int = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        return port

    with asyncio.Runner(loop_factory=TlsBoundedLoop) as runner:
        assert runner.get_loop().__class__ is TlsBoundedLoop
        assert runner.run(served_port()) > 0
