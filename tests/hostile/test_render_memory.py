"""Rendering an echo holds memory beyond the content: the JSON echo escapes it (``\\u0001``: six bytes for one),
the echo-log record escapes every character past ASCII too, and a form's fields are decoded and rendered again.
That memory is reserved in ``ECHO_MAX_INFLIGHT_BYTES`` at an estimate (``app.echo.render_memory``) that holds
for the worst contents below; past the budget the echo is refused with a plain 503.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.bodies import rss_bytes
from tests.rawhttp import exchange
from tests.servers import ServerPool

MIB = 1024 * 1024
SIZE_BYTES = 8 * MIB
UNIT_BYTES = 64 * 1024

# Each a content type and a 64 KiB unit repeated to SIZE_BYTES (the worst each rendering sees).
WORST_CONTENTS = [
    pytest.param("text/plain", "b'\\x01' * UNIT", id="control-characters"),
    pytest.param("text/plain", "b'\"' * UNIT", id="quotes"),
    pytest.param("text/plain", "'\\U0001F600'.encode() + b'\\x01' * (UNIT - 4)", id="one-emoji-then-controls"),
    pytest.param("text/plain", "'é'.encode() * (UNIT // 2)", id="two-byte-characters"),
    pytest.param("application/octet-stream", "bytes(range(256)) * (UNIT // 256)", id="binary"),
    pytest.param("application/x-www-form-urlencoded", "b'%01' * (UNIT // 4) + b'%C3%A9' * (UNIT // 24)", id="percent"),
    pytest.param("application/x-www-form-urlencoded", "b'+' * UNIT", id="plus-signs"),
    pytest.param("application/json", "b'\\\\u0001' * (UNIT // 6)", id="json-escapes"),
]

# In a fresh interpreter: the content is built chunk by chunk (as read_body keeps it), then rendered once;
# the peak over the resident size before is what rendering held.
SCRIPT = """
import os, sys
from app.echo.body import Body
from app.echo.render import RequestFacts, json_echo, render_bytes
from app.echo.render_memory import log_record_bytes
from app.ops.echo_log import EchoLog
from bench.bodies import rss_bytes
UNIT = {unit}
kind, content_type = sys.argv[1], sys.argv[2].encode()
unit = {expression}
if kind == "json":
    unit = b'["' + unit[:-4] + b'",'  # one string per chunk: a JSON array of them
chunks = [unit] * ({size} // len(unit))
if kind == "json":
    chunks[-1] = chunks[-1][:-1] + b"]"
chunks = tuple(bytes(chunk) for chunk in chunks)  # distinct objects, as read from the socket
body = Body(chunks, sum(map(len, chunks)))
fields = [(b"content-type", content_type)]
facts = RequestFacts("POST", b"/", "/", b"", "1.1", "http", ("127.0.0.1", 1), None, fields, body, 0.0)
before = rss_bytes(os.getpid())
if sys.argv[3] == "log":
    estimate = log_record_bytes(chunks)
    EchoLog((), lambda line: None).write(facts)
else:
    estimate = render_bytes(content_type, body)
    document = json_echo(facts, "host")
print(rss_bytes(os.getpid(), "VmHWM") - before, estimate)
"""


def rendering_peak(content_type: str, expression: str, rendering: str) -> tuple[int, int]:
    """``(peak growth, estimate)`` in bytes of rendering the content once in a fresh interpreter."""
    kind = "json" if content_type == "application/json" else "plain"
    script = SCRIPT.format(unit=UNIT_BYTES, expression=expression, size=SIZE_BYTES)
    done = subprocess.run(
        [sys.executable, "-c", script, kind, content_type, rendering],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    peak, estimate = map(int, done.stdout.split())
    return peak, estimate


@pytest.mark.parametrize(("content_type", "expression"), WORST_CONTENTS)
@pytest.mark.parametrize("rendering", ["json", "log"])
def test_the_estimate_covers_what_rendering_holds(content_type: str, expression: str, rendering: str) -> None:
    peak, estimate = rendering_peak(content_type, expression, rendering)
    # The 2 MiB: allocator arenas and the interpreter's own growth, whatever the content.
    assert peak <= estimate + 2 * MIB, f"rendering held {peak / MIB:.1f} MiB, estimated {estimate / MIB:.1f}"
    # A small multiple of the content, so the budget is not spent on air.
    assert estimate <= 32 * SIZE_BYTES


def post(target: str, content_type: str, content: bytes) -> bytes:
    head = f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {len(content)}\r\n"
    return head.encode() + b"\r\n" + content


CONTROLS = b"\x01" * (5 * MIB)  # its JSON echo is 30 MiB of \u0001


@pytest.mark.server
async def test_a_json_echo_past_the_budget_is_refused_with_a_plain_503(server_pool: ServerPool) -> None:
    small = server_pool.get((), {"ECHO_MAX_INFLIGHT_BYTES": str(48 * MIB)})
    with small.clean_log():
        refused = await exchange(small.port, post("/?echo_format=json", "text/plain", CONTROLS))
        as_text = await exchange(small.port, post("/", "text/plain", CONTROLS))
    assert refused.status == 503
    assert refused.content.startswith(b"503 Service Unavailable: rendering the JSON echo (about ")
    assert refused.field("x-content-type-options") == "nosniff"
    assert refused.field("retry-after") == "1"
    assert as_text.status == 200  # the text echo sends the content as it came: nothing more to hold


@pytest.mark.server
async def test_an_echo_log_record_past_the_budget_is_refused(server_pool: ServerPool) -> None:
    logged = server_pool.get((), {"ECHO_MAX_INFLIGHT_BYTES": str(48 * MIB), "ECHO_LOG_ECHO": "true"})
    with logged.clean_log():
        refused = await exchange(logged.port, post("/", "text/plain", CONTROLS))
        fine = await exchange(logged.port, post("/", "text/plain", b"\x01" * MIB))
    assert refused.status == 503
    assert refused.content.startswith(b"503 Service Unavailable: the echo-log record (about ")
    assert fine.status == 200


@pytest.mark.server
async def test_a_percent_encoded_form_is_decoded_in_bounded_memory(server_pool: ServerPool) -> None:
    fresh = server_pool.get((), {"ECHO_TEST_ISOLATION": "render-memory"})
    content = b"a=" + b"%01" * (10 * MIB // 3 - 1)
    before = rss_bytes(fresh.process.pid)
    with fresh.clean_log():
        response = await exchange(fresh.port, post("/?echo_format=json", "application/x-www-form-urlencoded", content))
    grown = rss_bytes(fresh.process.pid, "VmHWM") - before
    assert response.status == 200
    assert json.loads(response.content)["form"]["fields"]["a"] == ["\x01" * (10 * MIB // 3 - 1)]
    assert grown < 160 * MIB, f"the server grew {grown / MIB:.0f} MiB for one 10 MiB form"  # it was 770 MiB
