"""What each way to run the app serves: ``python -m app`` is the full product, plain uvicorn says what it lacks.

A forged ``X-Forwarded-For`` must never become the reported TCP peer, whatever server runs the app.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from app.ops.observe import WITHOUT_ECHO_PROTOCOL
from tests.rawhttp import exchange
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server

FORGED = b"GET /who?echo_format=json HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n"


async def document_for(running: RunningServer, request: bytes = FORGED) -> dict[str, Any]:
    response = await exchange(running.port, request)
    assert response.status == 200
    parsed: dict[str, Any] = json.loads(response.content)
    return parsed


def lines_naming_the_missing_protocol(running: RunningServer) -> list[str]:
    time.sleep(0.1)  # the reader thread catches up with the server's output
    return [line for line in running.log if WITHOUT_ECHO_PROTOCOL in line]


async def test_plain_uvicorn_never_reports_a_forged_peer_and_says_so(server_pool: ServerPool) -> None:
    running = server_pool.get((), plain=True)  # uvicorn app.main:app: proxy headers trusted from loopback
    with running.clean_log():
        document = await document_for(running)
        await document_for(running)
    assert document["connection"]["peer"] is None  # the stock protocol does not say; never the forged value
    assert document["client"] == {"ip": "203.0.113.9", "port": 0, "source": "x-forwarded-for"}
    assert len(lines_naming_the_missing_protocol(running)) == 1  # once, not per request


async def test_the_documented_command_reports_the_tcp_peer_and_logs_no_such_line(server: RunningServer) -> None:
    document = await document_for(server)
    assert document["connection"]["peer"]["ip"] == "127.0.0.1"
    assert document["client"]["ip"] == "127.0.0.1"
    assert document["client"]["source"] == "tcp"
    assert document["client"]["port"] == document["connection"]["peer"]["port"]
    assert lines_naming_the_missing_protocol(server) == []


async def test_python_m_app_takes_uvicorns_flags(server_pool: ServerPool) -> None:
    running = server_pool.get(("--http", "h11"))
    with running.clean_log():
        document = await document_for(running)
    assert document["raw_head"] is None  # h11 keeps no raw head: the flag won over the default
    assert len(lines_naming_the_missing_protocol(running)) == 1


async def test_python_m_app_with_reload_serves_the_full_product(server_pool: ServerPool) -> None:
    running = server_pool.get(("--reload", "--reload-dir", "app"))
    with running.clean_log():
        response = await exchange(running.port, b"GET /r?echo_format=raw HTTP/1.1\r\nhOsT: x\r\n\r\n")
    assert response.status == 200
    assert response.content == b"GET /r?echo_format=raw HTTP/1.1\r\nhOsT: x\r\n\r\n"
    assert lines_naming_the_missing_protocol(running) == []
