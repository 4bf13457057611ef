"""The echo endpoint in process, through httpx.ASGITransport (no HTTP parser involved)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from app.main import create_app
from app.settings import Instance, Settings
from tests.cases import DEFAULT_METHODS, OTHER_METHODS
from tests.conftest import BASE_URL, ClientFactory

TEXT = "text/plain; charset=utf-8"


def text_echo(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    names = "NAMES: Title-Case (the original case was not kept)"  # in process: no raw head
    lines = [
        f"METHOD: {method}",
        f"TARGET: {target}",
        names,
        "HEADERS:",
        *(f"{n}: {v}" for n, v in headers),
        "",
        "BODY:",
    ]
    return "\n".join(lines).encode() + b"\n" + body


@pytest.mark.parametrize("method", [m for m in (*DEFAULT_METHODS, *OTHER_METHODS) if m != "HEAD"])
async def test_every_method_token_is_echoed_with_200(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/any/path")
    assert response.status_code == 200
    assert response.content.startswith(f"METHOD: {method}\nTARGET: /any/path\n".encode())


async def test_text_echo_matches_the_documented_format(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/hello/a%2Fb?x=1&x=2",
        content=b"hi",
        headers={"content-type": "application/x-www-form-urlencoded", "user-agent": "curl/8.5.0"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == TEXT
    # What httpx put on the wire, in its order: the echo must list exactly these, Title-Cased.
    sent = [(name.decode(), value.decode()) for name, value in response.request.headers.raw]
    expected_headers = [("-".join(w.capitalize() for w in name.split("-")), value) for name, value in sent]
    assert ("User-Agent", "curl/8.5.0") in expected_headers
    assert response.content == text_echo("POST", "/hello/a%2Fb?x=1&x=2", expected_headers, b"hi")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param("/p%2Fq", "/p%2Fq", id="encoded-slash-kept"),
        pytest.param("/bad%zz?v=%zz", "/bad%zz?v=%zz", id="invalid-percent-encoding"),
        pytest.param("/r?k=1&k=2&k=3", "/r?k=1&k=2&k=3", id="repeated-query-keys"),
        pytest.param("/b?empty=&flag&x=", "/b?empty=&flag&x=", id="blank-values"),
        pytest.param("/", "/", id="root"),
        pytest.param("/caf%C3%A9?q=%E2%9C%93", "/caf%C3%A9?q=%E2%9C%93", id="utf8-percent-encoded"),
    ],
)
async def test_target_is_echoed_as_received(client: httpx.AsyncClient, target: str, expected: str) -> None:
    text = await client.get(target)
    assert text.content.split(b"\n")[1] == f"TARGET: {expected}".encode()
    document = (await client.get(target, headers={"accept": "application/json"})).json()
    assert document["target"] == expected


async def test_repeated_fields_keep_their_order_and_lines(client: httpx.AsyncClient) -> None:
    headers = [("x-dup", "one"), ("x-other", "mid"), ("x-dup", "two")]
    response = await client.get("/", headers=headers)
    lines = response.content.split(b"\n")
    assert lines[-6:-3] == [b"X-Dup: one", b"X-Other: mid", b"X-Dup: two"]
    document = (await client.get("/", headers=[*headers, ("accept", "application/json")])).json()
    assert [pair for pair in document["headers"] if pair[0].startswith("x-")] == [list(h) for h in headers]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"plain text\n", id="text"),
        pytest.param(bytes(range(256)) * 4, id="binary-all-bytes"),
        pytest.param(b"\xff\xfe invalid \xc3\x28 utf-8", id="invalid-utf8"),
        pytest.param(b"\r\n\r\nBODY:\nfake\n", id="looks-like-the-echo"),
    ],
)
async def test_body_follows_body_line_byte_for_byte(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.put("/up", content=body)
    assert response.status_code == 200
    marker = response.content.index(b"\n\nBODY:\n") + len(b"\n\nBODY:\n")
    assert response.content[marker:] == body
    assert int(response.headers["content-length"]) == len(response.content)


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        pytest.param("héllo ✓".encode(), "utf-8", id="utf8"),
        pytest.param(bytes(range(256)), "base64", id="binary"),
        pytest.param(b"", "utf-8", id="empty"),
    ],
)
async def test_json_body_round_trips(client: httpx.AsyncClient, body: bytes, encoding: str) -> None:
    document = (await client.post("/j?echo_format=json", content=body)).json()
    echoed = document["body"]
    assert echoed["encoding"] == encoding
    import base64

    decoded = echoed["value"].encode() if encoding == "utf-8" else base64.b64decode(echoed["value"])
    assert decoded == body
    assert echoed["size"] == len(body)
    assert echoed["sha256"] == hashlib.sha256(body).hexdigest()


async def test_json_echo_has_every_documented_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/p%2Fq/caf%C3%A9?b=2&a=1&b=&bad=%FF",
        content=b'{"k": [1, 2.5, "x"]}',
        headers=[
            ("content-type", "application/json"),
            ("cookie", "s=1; t=2"),
            ("cookie", "s=3"),
            ("accept", "application/json"),
        ],
    )
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert list(document) == [
        "method", "target", "path", "query_string", "query", "http_version", "scheme", "client", "server",
        "headers", "header_map", "headers_as_sent", "raw_head", "trailers", "connection", "cookies", "body", "json",
        "json_error", "form", "form_error", "hostname", "received_at",
        "instance", "applied",
    ]  # fmt: skip
    assert document["method"] == "POST"
    assert document["target"] == "/p%2Fq/caf%C3%A9?b=2&a=1&b=&bad=%FF"
    assert document["path"] == "/p/q/café"
    assert document["query_string"] == "b=2&a=1&b=&bad=%FF"
    assert document["query"] == {"b": ["2", ""], "a": ["1"], "bad": ["\ufffd"]}
    assert document["http_version"] == "1.1"
    assert document["scheme"] == "http"
    assert document["client"] == {"ip": "127.0.0.1", "port": 123, "source": "tcp"}  # httpx.ASGITransport's fixed peer
    assert document["server"] == {"host": "echo.test", "port": None}
    assert ["cookie", "s=3"] in document["headers"]
    assert document["cookies"] == [["s", "1"], ["t", "2"], ["s", "3"]]
    assert document["json"] == {"k": [1, 2.5, "x"]}
    assert document["json_error"] is None
    assert document["form"] is None
    assert document["form_error"] is None
    assert isinstance(document["hostname"], str)
    assert document["hostname"]
    assert document["received_at"].endswith("Z")
    assert "T" in document["received_at"]


@pytest.mark.parametrize(
    ("accept", "expected_type"),
    [
        pytest.param(None, TEXT, id="no-accept"),
        pytest.param("*/*", TEXT, id="any"),
        pytest.param("application/json", "application/json", id="json"),
        pytest.param("text/plain, application/json;q=0.9", TEXT, id="text-preferred"),
        pytest.param("application/json, text/plain;q=0.5", "application/json", id="json-preferred"),
        pytest.param("application/json;q=abc", TEXT, id="unparsable"),
    ],
)
async def test_accept_negotiation_picks_the_format(
    client: httpx.AsyncClient, accept: str | None, expected_type: str
) -> None:
    headers = {} if accept is None else {"accept": accept}
    response = await client.get("/n", headers=headers)
    if accept is None:
        response = await client.get("/n", headers={"accept": ""})  # httpx sends */* by default
    assert response.headers["content-type"] == expected_type
    assert response.headers["vary"] == "Accept"


@pytest.mark.parametrize(
    ("query", "accept", "expected_type"),
    [
        pytest.param("echo_format=json", "text/plain", "application/json", id="json-beats-accept"),
        pytest.param("echo_format=text", "application/json", TEXT, id="text-beats-accept"),
    ],
)
async def test_echo_format_overrides_accept(
    client: httpx.AsyncClient, query: str, accept: str, expected_type: str
) -> None:
    response = await client.get(f"/f?{query}", headers={"accept": accept})
    assert response.headers["content-type"] == expected_type


async def test_invalid_echo_format_is_a_plain_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/f?echo_format=xml")
    assert response.status_code == 400
    assert response.headers["content-type"] == TEXT
    assert "echo_format='xml'" in response.text
    assert "text, json" in response.text


async def test_content_over_the_limit_gets_413(make_client: ClientFactory) -> None:
    client = make_client(Settings(max_body_bytes=16))
    at_limit = await client.post("/", content=b"x" * 16)
    assert at_limit.status_code == 200
    over = await client.post("/", content=b"x" * 17)
    assert over.status_code == 413
    assert over.headers["content-type"] == TEXT
    assert "16 bytes" in over.text
    assert "ECHO_MAX_BODY_BYTES" in over.text
    assert over.headers["x-content-type-options"] == "nosniff"
    again = await client.post("/", content=b"y")
    assert again.status_code == 200


async def test_content_over_the_limit_without_length_gets_413(make_client: ClientFactory) -> None:
    client = make_client(Settings(max_body_bytes=16))

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"12345"

    response = await client.post("/", content=chunks())
    assert response.status_code == 413


async def test_streamed_content_without_length_is_echoed(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for piece in (b"one,", b"two,", b"three"):
            yield piece

    response = await client.post("/s", content=chunks())
    assert response.content.endswith(b"\nBODY:\none,two,three")


@pytest.mark.parametrize("accept", ["text/plain", "application/json"])
async def test_head_has_the_length_of_its_own_echo_and_no_content(client: httpx.AsyncClient, accept: str) -> None:
    head = await client.head("/h?x=1", headers={"accept": accept})
    assert head.status_code == 200
    assert head.content == b""
    get = await client.get("/h?x=1", headers={"accept": accept})
    assert head.headers["content-type"] == get.headers["content-type"]
    if accept == "text/plain":
        # The echo this HEAD would carry differs from GET's only in the method name.
        assert int(head.headers["content-length"]) == len(get.content) + len("HEAD") - len("GET")
    else:
        assert int(head.headers["content-length"]) > 0


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        pytest.param("GET", "/", {}, id="text"),
        pytest.param("GET", "/", {"accept": "application/json"}, id="json"),
        pytest.param("HEAD", "/", {}, id="head"),
        pytest.param("GET", "/?echo_format=bad", {}, id="400"),
        pytest.param("GET", "/?echo_format=raw", {}, id="raw-unavailable-in-process"),
        pytest.param("POST", "/?echo_mode=stream", {}, id="stream-mode"),
        pytest.param("GET", "/?echo_body=x&echo_content_type=text/csv", {}, id="body-control"),
        pytest.param("GET", "/?echo_status=204", {}, id="204"),
        pytest.param("GET", "/?echo_status=304", {}, id="304"),
        pytest.param("GET", "/_echo/health", {}, id="health"),
        pytest.param("GET", "/_echo/config", {}, id="config"),
        pytest.param("GET", "/_echo/metrics", {}, id="metrics"),
        pytest.param("GET", "/_echo/nothing-here", {}, id="404"),
        pytest.param("POST", "/_echo/health", {}, id="405"),
        pytest.param(
            "OPTIONS", "/", {"origin": "https://a.test", "access-control-request-method": "PUT"}, id="preflight"
        ),
    ],
)
async def test_every_response_carries_the_safety_fields_once(
    client: httpx.AsyncClient, method: str, target: str, headers: dict[str, str]
) -> None:
    response = await client.request(method, target, headers=headers)
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]
    assert response.headers.get_list("cache-control") == ["no-store"]
    assert "html" not in response.headers.get("content-type", "")


async def test_html_in_the_request_is_not_served_as_html(client: httpx.AsyncClient) -> None:
    payload = "<script>alert(1)</script>"
    response = await client.post("/", content=payload, headers={"accept": "text/html", "content-type": "text/html"})
    assert response.headers["content-type"] == TEXT
    assert payload.encode() in response.content


async def test_unexpected_error_is_a_plain_500_without_traceback() -> None:
    async def explode(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("secret internal detail")

    app = create_app(Settings())
    # The router's fallback hands requests to the echo: a failing echo in its place. (A module attribute
    # patched with monkeypatch would not reach the shipped build, whose compiled modules bind calls early.)
    app.router.default.http = explode  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get("/")
    assert response.status_code == 500
    assert response.text == "500 Internal Server Error\n"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_json_document_is_always_valid_utf8(client: httpx.AsyncClient) -> None:
    # A lone surrogate escape in the request JSON cannot be written as UTF-8: it must come back escaped.
    response = await client.post(
        "/?echo_format=json", content=b'{"s": "\\ud800"}', headers={"content-type": "application/json"}
    )
    response.content.decode("utf-8")  # raises if not UTF-8
    assert json.loads(response.content)["json"] == {"s": "\ud800"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/_echo/health", 200, id="health"),
        pytest.param("HEAD", "/_echo/health", 200, id="health-head"),
        pytest.param("POST", "/_echo/health", 405, id="wrong-method"),
        pytest.param("GET", "/_echo/unknown", 404, id="unknown"),
        # A newline stops the mount's pattern: the router's fallback must refuse these too.
        pytest.param("GET", "/_echo/x%0Ay", 404, id="newline"),
        pytest.param("GET", "/_echo/health%0a%0a", 404, id="health-newlines"),
    ],
)
async def test_reserved_prefix_is_not_echoed(client: httpx.AsyncClient, method: str, path: str, status: int) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    assert b"METHOD:" not in response.content
    assert response.headers["x-content-type-options"] == "nosniff"
    if status == 200 and method == "GET":
        assert response.text == "ok\n"
    if status == 405:
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}


async def test_connect_gets_501_not_a_tunnel(client: httpx.AsyncClient) -> None:
    response = await client.request("CONNECT", "/")
    assert response.status_code == 501
    assert "RFC 9110 §9.3.6" in response.text


@pytest.mark.parametrize("target", ["/f/%0A/", "/a%0Ab", "/trailing/", "/%0D%0A"])
async def test_odd_paths_are_echoed_never_redirected(client: httpx.AsyncClient, target: str) -> None:
    response = await client.get(target)
    assert response.status_code == 200
    assert f"TARGET: {target}\n".encode() in response.content


@pytest.mark.parametrize("path", ["/_echo/health/", "/_echo/"])
async def test_reserved_prefix_never_redirects(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_long_accept_values_and_field_names_are_not_cached() -> None:
    from app.controls import negotiation
    from app.echo import render as echo

    accept_cache = negotiation._cached_format_from_accept.cache_info().currsize
    name_cache = echo._cached_title_case.cache_info().currsize
    for index in range(50):
        negotiation.format_from_accept(f"text/plain;x={index};" + "a" * 1000)
        echo.canonical_name(b"x-%d-" % index + b"n" * 1000)
    assert negotiation._cached_format_from_accept.cache_info().currsize == accept_cache
    assert echo._cached_title_case.cache_info().currsize == name_cache
    assert echo.canonical_name(b"x-" + b"n" * 100) == b"X-N" + b"n" * 99


async def test_reserved_prefix_behind_a_root_path() -> None:
    # uvicorn --root-path /api: scope["path"] carries the root path in front of the route path.
    transport = httpx.ASGITransport(app=create_app(Settings()), root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://echo.test") as client:
        health = await client.get("/api/_echo/health")
        echo = await client.get("/api/x")
    assert (health.status_code, health.text) == (200, "ok\n")
    assert echo.content.startswith(b"METHOD: GET\nTARGET: /api/x\n")


@pytest.mark.parametrize("accept", ["text/plain", "application/json"])
@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
@pytest.mark.parametrize("size", [0, 100, 70 * 1024], ids=["empty", "small", "past-the-join-limit"])
async def test_the_echo_log_does_not_change_the_answer(accept: str, method: str, size: int) -> None:
    # One render path: with or without the echo log (which renders the request a second time), the same answer.
    answers = []
    for log_echo in (False, True):
        app = create_app(Settings(log_echo=log_echo), log_sink=lambda line: None)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://echo.test") as client:
            answers.append(await client.request(method, "/p?a=1", headers={"accept": accept}, content=b"x" * size))
    plain, shaped = answers
    assert (plain.status_code, shaped.status_code) == (200, 200)
    fields = [(name, value) for name, value in plain.headers.multi_items() if name != "x-request-id"]
    assert fields == [(name, value) for name, value in shaped.headers.multi_items() if name != "x-request-id"]
    if accept == "application/json" and method != "HEAD":
        plain_document, shaped_document = plain.json(), shaped.json()
        assert plain_document.pop("received_at")
        assert shaped_document.pop("received_at")
        assert plain_document == shaped_document
        assert plain_document["body"]["size"] == size
    else:
        assert plain.content == shaped.content
        assert len(plain.content) == (0 if method == "HEAD" else int(plain.headers["content-length"]))


async def test_the_json_echo_names_the_replica_from_the_settings(make_client: ClientFactory) -> None:
    client = make_client(Settings(instance=Instance(pod_name="echo-0", node_name="n1")))
    document = (await client.get("/", headers={"accept": "application/json"})).json()
    assert document["instance"] == {"pod_name": "echo-0", "pod_namespace": None, "node_name": "n1", "pod_ip": None}
