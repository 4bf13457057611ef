"""Every uvicorn name the server layer relies on (``app.server.uvicorn_surface``) is still there."""

from __future__ import annotations

import asyncio

import pytest
import zttp
from hpack import Encoder
from uvicorn.config import Config
from uvicorn.protocols.http import httptools_impl, zttp_h2_impl
from uvicorn.protocols.http.auto_zttp_impl import AutoZttpProtocol
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.http.zttp_h2_impl import ZttpH2Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from app.server import uvicorn_surface
from app.server.event_loop import TlsBoundedLoop
from bench.hostile_http2 import END_HEADERS, END_STREAM, HEADERS, client_preface, frame
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
    assert hasattr(protocol.conn, "extensions")
    assert not [name for name in uvicorn_surface.WEBSOCKETS_CONNECTION_READ if not hasattr(protocol.conn, name)]


def test_flow_control_methods_exist() -> None:
    assert not [name for name in uvicorn_surface.FLOW_CONTROL_METHODS if not callable(getattr(FlowControl, name, None))]


def test_zttp_h2_names_exist() -> None:
    missing = [name for name in uvicorn_surface.ZTTP_H2_EXTENDED if name not in vars(ZttpH2Protocol)]
    assert not missing, "no longer ZttpH2Protocol's own methods"
    assert not [name for name in uvicorn_surface.ZTTP_H2_MODULE if not hasattr(zttp_h2_impl, name)]
    assert not [name for name in uvicorn_surface.AUTO_ZTTP_REPLACED if name not in vars(AutoZttpProtocol)]
    assert not [name for name in uvicorn_surface.ZTTP_STREAM_READ if not hasattr(zttp.Stream, name)]
    assert callable(getattr(zttp.H2Connection, "close", None))


async def test_zttp_h2_protocol_names_exist_once_a_request_is_read() -> None:
    protocol = ZttpH2Protocol(_config(), ServerState(), {}, _loop=asyncio.get_running_loop())
    protocol.connection_made(FakeTransport())  # type: ignore[arg-type]
    get = Encoder().encode([(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"), (b":authority", b"x")])
    protocol.data_received(client_preface() + frame(HEADERS, END_HEADERS | END_STREAM, 1, get))
    assert not [name for name in uvicorn_surface.ZTTP_H2_READ if not hasattr(protocol, name)]
    cycle = protocol.cycles[1]
    assert not [name for name in uvicorn_surface.ZTTP_H2_CYCLE_READ if not hasattr(cycle, name)]
    protocol.connection_lost(None)
    await asyncio.sleep(0)  # the app task ends on the disconnect


def test_auto_zttp_names_exist() -> None:
    protocol = AutoZttpProtocol(_config(), ServerState(), {}, _loop=asyncio.new_event_loop())
    try:
        assert not [name for name in uvicorn_surface.AUTO_ZTTP_READ if not hasattr(protocol, name)]
    finally:
        protocol.loop.close()


def test_uvicorn_types_exist() -> None:
    from uvicorn import _types

    assert not [name for name in uvicorn_surface.UVICORN_TYPES if not hasattr(_types, name)]


class _RecordingTransport(FakeTransport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)


async def test_the_last_chunk_is_written_alone_after_an_empty_last_message() -> None:
    # app.server.actions puts the trailer section in place of exactly this write.
    protocol = await _stock_protocol_after_one_head()
    assert protocol.cycle is not None
    transport = _RecordingTransport()
    protocol.cycle.transport = transport  # type: ignore[assignment]
    await protocol.cycle.send({"type": "http.response.start", "status": 200, "headers": []})
    await protocol.cycle.send({"type": "http.response.body", "body": b"abc", "more_body": True})
    await protocol.cycle.send({"type": "http.response.body", "body": b"", "more_body": False})
    assert protocol.cycle.chunked_encoding is True
    assert transport.writes[-1] == b"0\r\n\r\n"
    protocol.connection_lost(None)


def test_config_names_exist_and_the_loop_setting_takes_a_class_by_module_and_name() -> None:
    config = _config()
    assert not [name for name in uvicorn_surface.CONFIG_READ if not hasattr(config, name)]
    assert Config(app=_app, loop="app.server.event_loop:TlsBoundedLoop").get_loop_factory() is TlsBoundedLoop
