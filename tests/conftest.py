"""Fixtures: in-process clients over ``httpx.ASGITransport`` and real uvicorn servers on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.servers import RunningServer, ServerPool

BASE_URL = "http://echo.test"

ClientFactory = Callable[[Settings], httpx.AsyncClient]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app with default settings, in process (no HTTP parser involved)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(Settings())), base_url=BASE_URL) as c:
        yield c


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    """Build in-process clients for apps with their own ``Settings``; closed after the test."""
    clients: list[httpx.AsyncClient] = []

    def factory(settings: Settings) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=create_app(settings))
        clients.append(httpx.AsyncClient(transport=transport, base_url=BASE_URL))
        return clients[-1]

    yield factory
    for c in clients:
        await c.aclose()


@pytest.fixture(scope="session")
def server_pool() -> Iterator[ServerPool]:
    """Real uvicorn subprocesses, one per option set, started on first use and stopped by PID."""
    pool = ServerPool()
    yield pool
    pool.stop_all()


@pytest.fixture
def server(server_pool: ServerPool) -> Iterator[RunningServer]:
    """The server as the README runs it; the test fails if its output gains ERROR or a traceback."""
    running = server_pool.get(())
    with running.clean_log():
        yield running
