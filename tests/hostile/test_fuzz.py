"""Fuzzing: generated requests through the app in process, and mutated request heads at the real server."""

from __future__ import annotations

import asyncio
import re
import socket
import string

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.main import create_app
from app.settings import Settings
from tests.conftest import BASE_URL
from tests.servers import RunningServer

TOKEN_CHARACTERS = "!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits
tokens = st.text(TOKEN_CHARACTERS, min_size=1, max_size=12)
field_values = st.binary(max_size=60).map(lambda raw: bytes(b for b in raw if b >= 0x20 and b != 0x7F).strip())
path_segments = st.lists(st.binary(max_size=12), max_size=4).map(
    lambda segments: "/f/" + "/".join("".join(f"%{b:02X}" if chr(b) not in string.ascii_letters else chr(b)
                                            for b in segment) for segment in segments)
)  # fmt: skip
control_names = st.sampled_from(["status", "delay", "header", "body", "content_type", "mode", "format", "bogus"])
control_values = st.one_of(
    st.sampled_from(["200", "204", "302", "418", "503,200", "99", "600", "0", "5", "json", "text", "stream", ""]),
    st.text(max_size=20),
)
controls = st.lists(st.tuples(control_names, control_values), max_size=3)
# Field names that would make httpx or the echo ambiguous stay out: framing is the server's, not the app's.
FRAMING = {"host", "content-length", "transfer-encoding", "connection", "expect", "upgrade"}
fields = st.lists(st.tuples(tokens.filter(lambda name: name.lower() not in FRAMING), field_values), max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=tokens.filter(lambda method: method.upper() not in {"CONNECT", "HEAD"}),
    path=path_segments,
    query_controls=controls,
    headers=fields,
    body=st.binary(max_size=2000),
)
async def test_generated_requests_never_get_5xx_and_bodies_round_trip(
    method: str, path: str, query_controls: list[tuple[str, str]], headers: list[tuple[str, bytes]], body: bytes
) -> None:
    app = create_app(Settings(max_delay_ms=5), log_sink=lambda line: None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        params = httpx.QueryParams([(f"echo_{name}", value) for name, value in query_controls])
        raw_headers = [(name.encode(), value) for name, value in headers]  # names are ASCII tokens
        response = await client.request(method, path, params=params, headers=raw_headers, content=body)
    assert 200 <= response.status_code < 500, response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    applied = response.headers.get("x-echo-applied", "")
    plain_echo = response.status_code == 200 and not re.search(r"\b(body|mode|format)=", applied)
    if plain_echo and response.headers["content-type"].startswith("text/plain"):
        assert response.content.split(b"\n\nBODY:\n", 1)[1] == body


VALID = b"POST /fuzz?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
STATUS_LINE = re.compile(rb"HTTP/1\.1 [1-5]\d\d ")


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, byte) edits: 0 replaces a byte, 1 inserts one, 2 deletes one."""
    buffer = bytearray(data)
    for kind, position, value in edits:
        index = position % (len(buffer) + 1)
        if kind == 0 and index < len(buffer):
            buffer[index] = value
        elif kind == 1:
            buffer.insert(index, value)
        elif index < len(buffer):
            del buffer[index]
    return bytes(buffer)


def exchange_raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


edits = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=6)


async def test_mutated_heads_get_a_response_or_a_clean_close(server: RunningServer) -> None:
    answers: list[bytes] = []

    @settings(max_examples=300, deadline=None, database=None)
    @given(edits)
    def send(mutation: list[tuple[int, int, int]]) -> None:
        answer = exchange_raw(server.port, mutate(VALID, mutation))
        answers.append(answer)
        assert answer == b"" or STATUS_LINE.match(answer), answer[:200]

    await asyncio.to_thread(send)
    assert any(answer.startswith(b"HTTP/1.1 200 ") for answer in answers)
    assert any(answer.startswith(b"HTTP/1.1 400 ") for answer in answers)
    assert exchange_raw(server.port, VALID).startswith(b"HTTP/1.1 200 ")
