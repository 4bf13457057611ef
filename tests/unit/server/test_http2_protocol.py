"""``app.server.http2_protocol`` in process: the control-frame bucket, and a PING flood answered by GOAWAY."""

from __future__ import annotations

import asyncio

from uvicorn.config import Config
from uvicorn.server import ServerState

from app.server.http2_protocol import CONTROL_FRAME_BURST, ControlFrameBucket, EchoH2Protocol
from bench.hostile_http2 import ENHANCE_YOUR_CALM, GOAWAY, PING, client_preface, frame, frames
from tests.fake_transport import FakeTransport


class RecordingTransport(FakeTransport):
    """Keeps what the protocol writes."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()

    def write(self, data: bytes) -> None:
        self.written += data


async def _app(scope: object, receive: object, send: object) -> None:
    return None


def test_the_bucket_allows_a_burst_then_its_rate() -> None:
    bucket = ControlFrameBucket(burst=3, rate_per_s=10.0, now_s=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.1)  # one token back after 1/10 s
    assert not bucket.take(0.1)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # refilled to the burst, no more


async def test_a_ping_flood_past_the_burst_ends_in_goaway_enhance_your_calm() -> None:
    config = Config(app=_app, lifespan="off", log_level="warning")
    config.load()
    protocol = EchoH2Protocol(config, ServerState(), {}, _loop=asyncio.get_running_loop())
    transport = RecordingTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    ping = frame(PING, 0, 0, b"12345678")
    protocol.data_received(client_preface() + ping * (CONTROL_FRAME_BURST - 1))  # the preface holds a SETTINGS
    assert not transport.is_closing()  # the burst is allowed, each PING answered
    protocol.data_received(ping)
    assert transport.is_closing()
    goaway = [payload for kind, _, _, payload in frames(bytes(transport.written)) if kind == GOAWAY]
    assert [int.from_bytes(payload[4:8], "big") for payload in goaway] == [ENHANCE_YOUR_CALM]
    protocol.connection_lost(None)
