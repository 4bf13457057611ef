"""Hostile but valid requests against the real server: echoed correctly, and quickly."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.rawhttp import exchange
from tests.servers import RunningServer

pytestmark = pytest.mark.server

DEEP = b"[" * 100_000 + b"]" * 100_000
GZIPPED = gzip.compress(b'{"compressed": true}' * 100)
PARTS = (
    b"".join(b'--B\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % i for i in range(3000)) + b"--B--\r\n"
)


def post(target: str, content_type: bytes, body: bytes, *extra: bytes) -> bytes:
    fields = b"".join(field + b"\r\n" for field in extra)
    return (
        f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n".encode()
        + b"Content-Type: " + content_type + b"\r\n" + fields + b"\r\n" + body
    )  # fmt: skip


def document(content: bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(content)
    return parsed


CASES: list[Any] = [
    pytest.param(
        b"GET /a%zz/%FF%FE/?q=%FF%zz&r=%C3%28&echo=1x&echo_format=json HTTP/1.1\r\nHost: x\r\n\r\n",
        lambda d: d["target"] == "/a%zz/%FF%FE/?q=%FF%zz&r=%C3%28&echo=1x&echo_format=json"
        and d["path"] == "/a%zz/\ufffd\ufffd/" and d["query"]["q"] == ["\ufffd%zz"] and d["query"]["r"] == ["\ufffd("],
        id="bad-percent-and-non-utf8-in-path-and-query",
    ),
    pytest.param(
        b"GET /many?" + b"a=1&" * 3000 + b"echo_format=json HTTP/1.1\r\nHost: x\r\n\r\n",
        lambda d: d["query"]["a"] == ["1"] * 3000,
        id="3000-query-parameters",
    ),
    pytest.param(
        post("/?echo_format=json", b"application/json", DEEP),
        lambda d: d["json"] is None and d["json_error"] == "nesting deeper than 512" and d["body"]["size"] == len(DEEP),
        id="json-nested-100000-deep",
    ),
    pytest.param(
        post("/?echo_format=json", b"application/json", b'{"n": NaN}'),
        lambda d: d["json_error"] == "NaN is not valid JSON (RFC 8259 §6)",
        id="json-nan",
    ),
    pytest.param(
        post("/?echo_format=json", b"application/json", b"[1e999, " + b"9" * 5000 + b"]"),
        lambda d: d["json"] is None and d["json_error"].startswith("number out of range"),
        id="json-huge-numbers",
    ),
    pytest.param(
        post("/?echo_format=json", b"application/json", b'{"k": 1, "k": 2}'),
        lambda d: d["json"] == {"k": 2},
        id="json-duplicate-keys",
    ),
    pytest.param(
        post("/?echo_format=json", b"multipart/form-data; boundary=B", PARTS),
        lambda d: d["form_error"] is None and len(d["form"]["fields"]) == 3000,
        id="multipart-3000-parts",
    ),
    pytest.param(
        post("/?echo_format=json", b"multipart/form-data", b"--B\r\n\r\nv\r\n--B--\r\n"),
        lambda d: d["form"] is None and "without a boundary" in d["form_error"],
        id="multipart-without-boundary",
    ),
    pytest.param(
        post("/?echo_format=json", b"application/json", GZIPPED, b"Content-Encoding: gzip"),
        lambda d: d["body"]["encoding"] == "base64" and d["body"]["size"] == len(GZIPPED)
        and d["json_error"] == "invalid UTF-8",
        id="gzip-content-shown-as-received",
    ),
    pytest.param(
        b"GET /?echo_format=json HTTP/1.1\r\nHost: x\r\nAccept: "
        + b", ".join(b"type%d/sub;q=0.%d" % (i, i % 10) for i in range(2000)) + b"\r\n\r\n",
        lambda d: d["method"] == "GET",
        id="accept-with-2000-ranges",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("request_bytes", "check"), CASES)
async def test_hostile_valid_request_is_echoed_quickly(
    server: RunningServer, request_bytes: bytes, check: Callable[[dict[str, Any]], bool]
) -> None:
    started = time.monotonic()
    response = await exchange(server.port, request_bytes)
    elapsed = time.monotonic() - started
    assert response.status == 200
    assert check(document(response.content))
    assert elapsed < 1


@pytest.mark.parametrize(
    "accept",
    [b"application/json;q=0.9x, text/plain", b";;;,,,*/*;;", b"\xff\xfe/\xfd", b"text/plain;q=1;q=0;q=0.5"],
)
async def test_odd_accept_values_fall_back_to_text(server: RunningServer, accept: bytes) -> None:
    response = await exchange(server.port, b"GET /odd HTTP/1.1\r\nHost: x\r\nAccept: " + accept + b"\r\n\r\n")
    assert response.status == 200
    assert response.field("content-type") == "text/plain; charset=utf-8"
    assert b"\r\n" not in response.content.split(b"\nBODY:\n")[0]
