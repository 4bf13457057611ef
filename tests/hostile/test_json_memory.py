"""JSON content whose parse would take many times its size is not parsed past the in-flight budget.

``[{},{},...]`` of 10 MiB becomes some 800 MB of Python objects; parsed, one such request grew the server
by 512 MiB. Parsing is reserved in ``ECHO_MAX_INFLIGHT_BYTES`` like the content itself: past it the echo
still answers, with ``json`` null and ``json_error`` saying why.
"""

from __future__ import annotations

import json

import pytest

from bench.bodies import rss_bytes
from tests.rawhttp import exchange
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server

MIB = 1024 * 1024
EMPTY_OBJECTS = b"[" + b"{}," * (10 * MIB // 3 - 2) + b"{}]"


@pytest.fixture
def fresh(server_pool: ServerPool) -> RunningServer:
    return server_pool.get((), {"ASGI_ECHO_TEST_ISOLATION": "json-memory"})


def post_json(target: str, content: bytes) -> bytes:
    head = f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(content)}\r\n"
    return head.encode() + b"\r\n" + content


async def test_a_json_bomb_is_echoed_unparsed_within_memory(fresh: RunningServer) -> None:
    before = rss_bytes(fresh.process.pid)
    with fresh.clean_log():
        response = await exchange(fresh.port, post_json("/bomb?echo_format=json", EMPTY_OBJECTS))
    grown = rss_bytes(fresh.process.pid, "VmHWM") - before
    assert response.status == 200
    document = json.loads(response.content)
    assert document["json"] is None
    assert document["json_error"].startswith("not parsed: parsing would hold about ")
    assert document["body"]["size"] == len(EMPTY_OBJECTS)
    assert grown < 160 * MIB, f"the server grew {grown / MIB:.0f} MiB for one request"


async def test_json_within_the_budget_is_parsed(fresh: RunningServer) -> None:
    content = b"[" + b'{"a":1},' * 50_000 + b'{"a":2}]'
    response = await exchange(fresh.port, post_json("/fine?echo_format=json", content))
    document = json.loads(response.content)
    assert document["json_error"] is None
    assert len(document["json"]) == 50_001
