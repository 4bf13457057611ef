"""One source of settings: the protocol enforces the limits of the ``Settings`` the app was built with."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.main import create_app
from app.server.limits import ProtocolLimits, limits_for, settings_of
from app.server.protocol import EchoHttpToolsProtocol
from app.settings import Settings
from tests.rawhttp import exchange
from tests.servers import free_port

pytestmark = pytest.mark.server

SETTINGS = Settings(max_header_bytes=2048, max_target_bytes=1024, header_timeout_s=1.5)


@pytest.fixture
async def port() -> AsyncIterator[int]:
    """A uvicorn server in this process, serving an app built with ``SETTINGS`` under the echo protocol."""
    config = uvicorn.Config(
        create_app(SETTINGS),
        host="127.0.0.1",
        port=free_port(),
        http=EchoHttpToolsProtocol,
        lifespan="off",
        log_level="warning",
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  # uvicorn offers no event for it
        await asyncio.sleep(0.01)
    yield config.port
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def test_a_target_past_the_apps_limit_gets_414(port: int) -> None:
    response = await exchange(port, b"GET /" + b"a" * 1100 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.status == 414
    assert b"exceeds 1024 bytes" in response.content


async def test_a_head_past_the_apps_limit_gets_431(port: int) -> None:
    response = await exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 2100 + b"\r\n\r\n")
    assert response.status == 431
    assert b"exceeds 2048 bytes" in response.content


async def test_a_head_within_the_apps_limits_is_echoed(port: int) -> None:
    response = await exchange(port, b"GET /fine HTTP/1.1\r\nHost: x\r\nX-Small: " + b"v" * 1000 + b"\r\n\r\n")
    assert response.status == 200


async def test_the_head_timeout_is_the_apps(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\n")
    started = asyncio.get_running_loop().time()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"within 1.5 s" in answer
    assert asyncio.get_running_loop().time() - started < 5  # the default is 10 s


def test_settings_are_found_through_uvicorns_wrappers() -> None:
    wrapped = ProxyHeadersMiddleware(create_app(SETTINGS))  # type: ignore[arg-type]  # uvicorn's narrower ASGI types
    assert settings_of(wrapped) is SETTINGS
    assert limits_for(wrapped) == ProtocolLimits(2048, 1024, 1.5, SETTINGS.body_timeout_s, SETTINGS.write_timeout_s)


def test_an_app_without_settings_gets_the_environments() -> None:
    async def other_app(scope: object, receive: object, send: object) -> None:
        return None

    assert settings_of(other_app) is None
    assert limits_for(other_app) == ProtocolLimits.from_settings(Settings())
