"""Every uvicorn name the server layer relies on (``app.server.uvicorn_surface``) is still there."""

from __future__ import annotations

import asyncio

import pytest
from uvicorn.config import Config
from uvicorn.protocols.http import httptools_impl
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from app.server import uvicorn_surface
from tests.fake_transport import FakeTransport


async def _app(scope: object, receive: object, send: object) -> None:
    return None


def _config() -> Config:
    config = Config(app=_app, lifespan="off", log_level="warning")
    config.load()
    return config


async def _stock_protocol_after_one_head() -> HttpToolsProtocol:
    config = _config()
    protocol = HttpToolsProtocol(config, ServerState(), {}, _loop=asyncio.get_running_loop())
    protocol.connection_made(FakeTransport())  # type: ignore[arg-type]
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n")
    return protocol


@pytest.mark.parametrize("name", [*uvicorn_surface.HTTPTOOLS_EXTENDED, *uvicorn_surface.HTTPTOOLS_REPLACED])
def test_extended_and_replaced_methods_exist(name: str) -> None:
    assert callable(getattr(HttpToolsProtocol, name, None)), name
    assert name in vars(HttpToolsProtocol), f"{name} is no longer HttpToolsProtocol's own method"


async def test_protocol_and_cycle_names_exist_once_a_head_is_parsed() -> None:
    protocol = await _stock_protocol_after_one_head()
    missing = [name for name in uvicorn_surface.HTTPTOOLS_READ if not hasattr(protocol, name)]
    assert not missing
    assert protocol.cycle is not None
    assert not [name for name in uvicorn_surface.CYCLE_READ if not hasattr(protocol.cycle, name)]
    protocol.connection_lost(None)


async def test_websocket_and_module_names_exist() -> None:
    assert not [name for name in uvicorn_surface.HTTPTOOLS_MODULE if not hasattr(httptools_impl, name)]
    protocol = WebSocketsSansIOProtocol(_config(), ServerState(), {}, _loop=asyncio.get_running_loop())
    assert not [name for name in uvicorn_surface.WEBSOCKET_READ if not hasattr(protocol, name)]
    assert hasattr(protocol.conn, "send_response")
    assert not [name for name in uvicorn_surface.WEBSOCKETS_CONNECTION_READ if not hasattr(protocol.conn, name)]


def test_flow_control_methods_exist() -> None:
    assert not [name for name in uvicorn_surface.FLOW_CONTROL_METHODS if not callable(getattr(FlowControl, name, None))]
