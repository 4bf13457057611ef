"""Pure echo rendering helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.echo.body import Body
from app.echo.render import RequestFacts, canonical_name, cookie_pairs, dump_json, json_echo, text_echo


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (b"host", b"Host"),
        (b"x-request-id", b"X-Request-Id"),
        (b"www-authenticate", b"Www-Authenticate"),
        (b"x-b3-traceid", b"X-B3-Traceid"),
        (b"te", b"Te"),
        (b"x--double", b"X--Double"),
    ],
)
def test_canonical_name(name: bytes, expected: bytes) -> None:
    assert canonical_name(name) == expected


@pytest.mark.parametrize(
    ("fields", "pairs"),
    [
        ([b"a=1; b=2"], [["a", "1"], ["b", "2"]]),
        ([b"a=1", b"a=2"], [["a", "1"], ["a", "2"]]),
        ([b"token=x=y==; ;flag"], [["token", "x=y=="], ["flag", ""]]),
        ([b'q="quoted value"'], [["q", '"quoted value"']]),
        ([], []),
    ],
)
def test_cookie_pairs(fields: list[bytes], pairs: list[list[str]]) -> None:
    assert cookie_pairs(fields) == pairs


def facts(**overrides: object) -> RequestFacts:
    values: dict[str, object] = {
        "method": "POST",
        "target": b"/p?x=1",
        "path": "/p",
        "query_string": b"x=1",
        "http_version": "1.1",
        "scheme": "http",
        "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 5000),
        "headers": [(b"host", b"h"), (b"x-a", b"\xe9")],
        "body": Body((b"ab", b"cd"), 4),
        "received_at_s": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC).timestamp(),
    }
    values.update(overrides)
    return RequestFacts(**values)  # type: ignore[arg-type]


def test_text_echo_keeps_content_chunks_unjoined() -> None:
    request = facts()
    parts = text_echo(request.method, request.target, request.headers, request.wire, request.body.chunks)
    assert parts[0] == (
        b"METHOD: POST\nTARGET: /p?x=1\nNAMES: Title-Case (the original case was not kept)\n"
        b"HEADERS:\nHost: h\nX-A: \xe9\n\nBODY:\n"
    )
    assert parts[1:] == [b"ab", b"cd"]


def test_json_echo_decodes_header_octets_as_latin1() -> None:
    document = json.loads(json_echo(facts(), "box"))
    assert document["headers"] == [["host", "h"], ["x-a", "é"]]
    assert document["received_at"] == "2026-01-02T03:04:05.000006Z"
    assert document["hostname"] == "box"
    assert document["body"]["value"] == "abcd"


def test_json_echo_without_client_or_server() -> None:
    document = json.loads(json_echo(facts(client=None, server=None), "box"))
    assert document["client"] is None
    assert document["server"] is None


def test_dump_json_writes_readable_utf8_and_escapes_lone_surrogates() -> None:
    assert dump_json({"s": "é"}) == '{"s":"é"}'.encode()
    assert json.loads(dump_json({"s": "\ud800"})) == {"s": "\ud800"}
    assert dump_json({"s": "\ud800", "t": "é"}) == b'{"s":"\\ud800","t":"\\u00e9"}'  # compact, like orjson's


def test_dump_json_writes_integers_beyond_64_bits() -> None:
    # orjson refuses them; request JSON may hold them, so the standard library writes those documents.
    assert json.loads(dump_json({"n": 2**70, "s": "é"})) == {"n": 2**70, "s": "é"}


def test_transfer_encoding_overrides_content_length() -> None:
    from app.echo.head import scan_head

    head = scan_head([(b"content-length", b"11000000"), (b"transfer-encoding", b"chunked")])
    assert head.content_length is None
    assert scan_head([(b"content-length", b"5")]).content_length == 5
