"""HTTP/2 clients that flood control frames or never read cannot grow the server without bound (issue 17, item 6).

Each test starts its own server (``bench.hostile_http2.HTTP2_OPTIONS``, the documented HTTP/2 command): memory a
flood made the server take and give back would hide the growth of the next one. Memory is the server's RSS
from /proc/<pid>/status. The clients are raw h2c sockets that build frames by hand and read nothing.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from bench.bodies import MIB, RssPeak
from bench.hostile_http2 import (
    HTTP2_OPTIONS,
    PING,
    SETTINGS,
    client_preface,
    flood,
    frame,
    h2_post,
    rapid_resets,
    repeated,
    unread_uploads,
)
from tests.servers import RunningServer

pytestmark = pytest.mark.server

FLOOD_BYTES = 64 * MIB
FLOOD_LIMIT_S = 60.0  # generous: the machine is shared; an unbounded server takes it all in a few seconds
GROWTH_BOUND_BYTES = 16 * MIB  # the unbounded server grew by about the flood itself (~60 MiB)
WRITE_TIMEOUT_S = 2
BUDGET_BYTES = 12 * MIB


@pytest.fixture
def fresh() -> Iterator[RunningServer]:
    server = RunningServer(HTTP2_OPTIONS)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stalling() -> Iterator[RunningServer]:
    env = {"ECHO_WRITE_TIMEOUT_S": str(WRITE_TIMEOUT_S), "ECHO_MAX_INFLIGHT_BYTES": str(BUDGET_BYTES)}
    server = RunningServer(HTTP2_OPTIONS, env)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize(
    "unit",
    [
        pytest.param(frame(PING, 0, 0, b"12345678"), id="PING"),
        pytest.param(frame(SETTINGS, 0, 0), id="SETTINGS"),
    ],
)
def test_a_control_frame_flood_never_read_ends_in_enhance_your_calm(fresh: RunningServer, unit: bytes) -> None:
    # Each PING and SETTINGS is answered with an ACK: unread, 64 MiB of them grew the server by ~60 MiB.
    with fresh.clean_log(), RssPeak(fresh.process.pid) as sampler:
        result = flood(fresh.port, client_preface(), repeated(unit), FLOOD_BYTES, FLOOD_LIMIT_S)
        time.sleep(0.3)
    assert result.cut_off, result
    assert sampler.growth_bytes < GROWTH_BOUND_BYTES
    assert sum("ENHANCE_YOUR_CALM" in line for line in fresh.log) == 1  # one line per connection, no flood


def test_a_ping_flood_over_tls_ends_in_enhance_your_calm(tmp_path: Path) -> None:
    # h2 chosen by ALPN: TLS buffers on both sides made the unbounded server grow by ~115 MiB for 64 MiB.
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    options = (*HTTP2_OPTIONS, "--ssl-certfile", str(tmp_path / "cert.pem"), "--ssl-keyfile", str(tmp_path / "key.pem"))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    context.set_alpn_protocols(["h2"])
    server = RunningServer(options)
    try:
        with server.clean_log(), RssPeak(server.process.pid) as sampler:
            ping = repeated(frame(PING, 0, 0, b"12345678"))
            flood(server.port, client_preface(), ping, FLOOD_BYTES, FLOOD_LIMIT_S, context)
            time.sleep(0.3)
        assert sampler.growth_bytes < GROWTH_BOUND_BYTES
        assert sum("ENHANCE_YOUR_CALM" in line for line in server.log) == 1
    finally:
        server.stop()


def test_rapid_reset_leaves_no_traceback_and_the_server_serving(fresh: RunningServer) -> None:
    # Streams opened and reset at once (CVE-2023-44487): zttp ends the connection, and the apps still running
    # on it wrote a traceback each ("Exception in ASGI application") sending on the streams zttp had dropped.
    with fresh.clean_log():
        result = flood(fresh.port, client_preface(), rapid_resets, 8 * MIB, FLOOD_LIMIT_S)
        assert result.cut_off, result
        assert asyncio.run(h2_post(fresh.port, 1024)) == 200


@pytest.mark.parametrize(
    "window_bytes",
    [
        pytest.param(None, id="no-flow-control-credit"),
        pytest.param(2**31 - 1, id="wide-window-socket-never-read"),
    ],
)
def test_answers_nobody_reads_hold_the_budget_until_the_write_timeout(
    stalling: RunningServer, window_bytes: int | None
) -> None:
    # The echo of 8 MiB parked for a client that grants no credit, or sitting in the transport for one that
    # never reads its socket: the budget it took is held until sent, and let go after ECHO_WRITE_TIMEOUT_S.
    # Before, the app returned at once (the budget freed, the bytes still held) and nothing ever timed out.
    # One stream: a second one might not be read yet when reading stops for the unread output.
    with stalling.clean_log():
        sock = unread_uploads(stalling.port, 1, 8 * MIB, window_bytes)
        try:
            time.sleep(1.0)
            assert asyncio.run(h2_post(stalling.port, 6 * MIB)) == 503  # 8 MiB held + 6 MiB > 12 MiB
            time.sleep(WRITE_TIMEOUT_S + 1.5)
            assert asyncio.run(h2_post(stalling.port, 6 * MIB)) == 200
        finally:
            sock.close()
    assert any("ECHO_WRITE_TIMEOUT_S" in line for line in stalling.log)


def test_answers_larger_than_the_window_are_sent_whole_to_a_client_that_reads(fresh: RunningServer) -> None:
    # The other side of holding answers until sent: a client that grants credit as it reads gets every byte,
    # and the connection serves on once they are (keep-alive waits for them, the write timeout does not fire).
    async def two_echoes() -> list[tuple[int, int]]:
        async with httpx.AsyncClient(http1=False, http2=True, timeout=30.0) as client:
            results = []
            for size in (6 * MIB, 1024):
                response = await client.post(f"http://127.0.0.1:{fresh.port}/big", content=b"z" * size)
                assert response.http_version == "HTTP/2"
                results.append((response.status_code, response.text.split("BODY:\n", 1)[1].count("z")))
            return results

    with fresh.clean_log():
        assert asyncio.run(two_echoes()) == [(200, 6 * MIB), (200, 1024)]
