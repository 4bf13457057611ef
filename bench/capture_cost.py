"""What the wire capture (issue 7) costs per request, measured in process on the protocol itself.

Two wrk runs of the floor with and without the capture differ by less than this machine's noise
(±10% between runs), so the capture is timed directly: the shipped protocol and the same protocol
without the capture (``bench.floor.NoWireCaptureProtocol``) parse the same requests and run the floor
app, with a fake transport, interleaved over several repetitions (medians). The difference in µs per
request, set against the floor's real time per request under wrk, is the share of the floor's
throughput the capture takes: its "points of the floor ratio".
"""

from __future__ import annotations

import asyncio
import statistics
import time

import uvloop
from uvicorn.config import Config
from uvicorn.server import ServerState

from app.server.protocol import EchoHttpToolsProtocol
from bench.floor import NoWireCaptureProtocol
from bench.floor import app as floor_app
from tests.fake_transport import FakeTransport

GET = b"GET /bench/echo?run=1 HTTP/1.1\r\nHost: bench\r\nUser-Agent: wrk\r\n\r\n"
POST = (
    b"POST /bench/echo?run=1 HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Length: 16384\r\n\r\n" + b"a" * 16384
)
REQUESTS = {"GET text echo": GET, "POST 16 KiB": POST}


async def _serve(protocol_class: type[EchoHttpToolsProtocol], request: bytes, count: int) -> float:
    config = Config(app=floor_app, http=protocol_class, lifespan="off", proxy_headers=False, log_level="warning")
    config.load()
    protocol = protocol_class(config, ServerState(), {}, _loop=asyncio.get_running_loop())
    protocol.connection_made(FakeTransport())  # type: ignore[arg-type]
    started = time.perf_counter()
    for _ in range(count):
        protocol.data_received(request)
        for _ in range(3):  # let the request's task run to its end
            await asyncio.sleep(0)
    elapsed = time.perf_counter() - started
    protocol.connection_lost(None)
    return elapsed / count * 1e6


def capture_cost_us(count: int, repetitions: int) -> dict[str, tuple[float, float]]:
    """Per scenario: (µs per request with the capture, without it), medians of interleaved repetitions."""
    costs: dict[str, tuple[float, float]] = {}
    for scenario, request in REQUESTS.items():
        uvloop.run(_serve(EchoHttpToolsProtocol, request, count // 10))  # warm-up
        with_capture, without = [], []
        for _ in range(repetitions):
            with_capture.append(uvloop.run(_serve(EchoHttpToolsProtocol, request, count)))
            without.append(uvloop.run(_serve(NoWireCaptureProtocol, request, count)))
        costs[scenario] = (statistics.median(with_capture), statistics.median(without))
    return costs


if __name__ == "__main__":  # `python -m bench.capture_cost COUNT REPETITIONS`: the costs as JSON (bench/run.py)
    import json
    import sys

    print(json.dumps(capture_cost_us(int(sys.argv[1]), int(sys.argv[2]))))
