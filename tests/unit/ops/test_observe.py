"""Request ids, CORS, metrics, the access log and the echo log, through the app in process."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from app.main import create_app
from app.ops.access_log import AccessLog, escape
from app.ops.cors import Cors
from app.ops.metrics import Metrics
from app.ops.observe import ObserveMiddleware
from app.settings import Settings
from tests.conftest import BASE_URL

Harness = Callable[..., tuple[httpx.AsyncClient, list[str]]]


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    """Build (client, log lines) pairs for apps with given settings; the lines are what the app logs."""
    clients: list[httpx.AsyncClient] = []

    def build(**settings: object) -> tuple[httpx.AsyncClient, list[str]]:
        lines: list[str] = []
        app = create_app(Settings(**settings), log_sink=lines.append)  # type: ignore[arg-type]
        clients.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL))
        return clients[-1], lines

    yield build
    for client in clients:
        await client.aclose()


async def test_request_id_is_kept_when_valid(harness: Harness) -> None:
    client, lines = harness()
    response = await client.get("/", headers={"X-Request-Id": "abc.DEF_123-x"})
    assert response.headers["x-request-id"] == "abc.DEF_123-x"
    assert lines[-1].endswith(" abc.DEF_123-x")


@pytest.mark.parametrize("given", ["", "has space", "x" * 129, "semi;colon", "é"])
async def test_request_id_is_generated_when_invalid(harness: Harness, given: str) -> None:
    client, _ = harness()
    response = await client.get("/", headers={b"X-Request-Id": given.encode("utf-8")})
    generated = response.headers["x-request-id"]
    assert generated != given
    assert re.fullmatch(r"[0-9a-f]{12}-[0-9a-f]+", generated)


async def test_generated_request_ids_differ(harness: Harness) -> None:
    client, _ = harness()
    ids = {(await client.get("/")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


async def test_error_responses_carry_the_request_id(harness: Harness) -> None:
    client, _ = harness()
    response = await client.get("/?echo_status=1", headers={"X-Request-Id": "err-1"})
    assert response.status_code == 400
    assert response.headers["x-request-id"] == "err-1"


# CORS ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PROPFIND", "MUX", "DELETE"])
async def test_preflight_allows_any_method_token(harness: Harness, method: str) -> None:
    client, lines = harness()
    response = await client.options(
        "/api",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type, x-custom",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == method
    assert response.headers["access-control-allow-headers"] == "content-type, x-custom"
    assert response.headers["access-control-max-age"] == "600"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == b""
    assert '"OPTIONS /api" 204 ' in lines[-1]


async def test_plain_options_is_echoed(harness: Harness) -> None:
    client, _ = harness()
    response = await client.options("/api", headers={"Origin": "https://app.example"})
    assert response.status_code == 200
    assert response.content.startswith(b"METHOD: OPTIONS\n")


async def test_responses_allow_any_origin_and_expose_our_fields(harness: Harness) -> None:
    client, _ = harness()
    response = await client.get("/", headers={"Origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-expose-headers"] == "X-Request-Id, X-Echo-Applied"


async def test_requests_without_origin_get_no_cors_fields(harness: Harness) -> None:
    # Not a CORS request (browsers send Origin on every one): the two fields would only cost bytes.
    client, _ = harness()
    response = await client.get("/")
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-expose-headers" not in response.headers


async def test_origin_list_allows_only_listed_origins(harness: Harness) -> None:
    client, _ = harness(cors_origins=("https://good.example",))
    good = await client.get("/", headers={"Origin": "https://good.example"})
    assert good.headers["access-control-allow-origin"] == "https://good.example"
    assert "Origin" in good.headers.get_list("vary")
    bad = await client.get("/", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in bad.headers
    # A cache must not hand this answer (no CORS fields) to an allowed origin: it varies by Origin too.
    assert "Origin" in bad.headers.get_list("vary")
    assert "Origin" in (await client.get("/")).headers.get_list("vary")
    refused = await client.options(
        "/", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"}
    )
    assert refused.status_code == 204
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-methods" not in refused.headers


async def test_preflight_does_not_reflect_invalid_header_names(harness: Harness) -> None:
    client, _ = harness()
    response = await client.options(
        "/", headers={"Origin": "https://a.example", "Access-Control-Request-Method": "GET",
                      "Access-Control-Request-Headers": "x-a, <script>"}
    )  # fmt: skip
    assert "access-control-allow-headers" not in response.headers


# Access log --------------------------------------------------------------------------------------


async def test_access_log_text_line(harness: Harness) -> None:
    client, lines = harness()
    await client.post("/p?q=1", content=b"12345", headers={"X-Request-Id": "rid-1"})
    assert len(lines) == 1
    pattern = r'\S+Z 127\.0\.0\.1:123 "POST /p\?q=1" 200 5 (\d+) [\d.]+ms rid-1'
    match = re.fullmatch(pattern, lines[0])
    assert match, lines[0]
    assert int(match.group(1)) > 5


async def test_access_log_json_line(harness: Harness) -> None:
    client, lines = harness(log_format="json")
    await client.get("/j", headers={"X-Request-Id": "rid-2"})
    record = json.loads(lines[0])
    assert record["method"] == "GET"
    assert record["target"] == "/j"
    assert record["status"] == 200
    assert record["request_bytes"] == 0
    assert record["request_id"] == "rid-2"
    assert set(record) == {
        "time", "client", "method", "target", "status", "request_bytes", "response_bytes", "duration_ms",
        "request_id",
    }  # fmt: skip


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_access_log_cannot_be_forged(log_format: str) -> None:
    lines: list[str] = []
    log = AccessLog(log_format, lines.append)  # type: ignore[arg-type]
    forged = b'/a\n2026-01-01T00:00:00Z 10.0.0.1:1 "GET /admin" 200 0 0 0.1ms x\r"\x7f\xe9\\'
    log.write(
        client=("127.0.0.1", 1), method="GET\n", target=forged, status=200,
        request_bytes=0, response_bytes=0, duration_ms=1.0, request_id="r",
    )  # fmt: skip
    assert len(lines) == 1
    assert not any(character in lines[0] for character in "\n\r\x7f\xe9")
    if log_format == "json":
        assert json.loads(lines[0])["target"] == forged.decode("latin-1")
    else:
        assert "\\x0a2026-01-01T00:00:00Z 10.0.0.1:1 \\x22GET /admin\\x22" in lines[0]
    assert escape('a\nb"\\\x7f\xe9') == "a\\x0ab\\x22\\x5c\\x7f\\xe9"


async def test_access_log_can_be_turned_off(harness: Harness) -> None:
    client, lines = harness(access_log=False)
    await client.get("/")
    assert lines == []


async def test_own_endpoints_are_not_logged(harness: Harness) -> None:
    client, lines = harness()
    for path in ("/_echo/health", "/_echo/config", "/_echo/metrics"):
        assert (await client.get(path)).status_code == 200
    assert lines == []


async def test_echo_log_redacts_secrets_in_the_log_only(harness: Harness) -> None:
    client, lines = harness(log_echo=True)
    secret = "Bearer s3cr3t-token"
    response = await client.post(
        "/hook", content=b'{"event": "push"}', headers={"Authorization": secret, "Cookie": "session=abc123"}
    )
    assert secret.encode() in response.content  # the response is never redacted
    echo_record = json.loads(next(line for line in lines if line.startswith('{"echo"')))["echo"]
    assert ["authorization", "[redacted]"] in echo_record["headers"]
    assert ["cookie", "[redacted]"] in echo_record["headers"]
    assert echo_record["body"]["value"] == '{"event": "push"}'
    assert all("s3cr3t" not in line and "abc123" not in line for line in lines)
    assert echo_record["request_id"] == response.headers["x-request-id"]


async def test_echo_log_redaction_can_be_turned_off(harness: Harness) -> None:
    client, lines = harness(log_echo=True, log_redact=())
    await client.get("/", headers={"Authorization": "Basic visible"})
    assert any("Basic visible" in line for line in lines)


# Metrics and config ------------------------------------------------------------------------------


def sample(exposition: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", exposition, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_metrics_move_after_a_request(harness: Harness) -> None:
    client, _ = harness()
    series = 'echo_http_requests_total{method="POST",status_class="2xx"}'
    before = (await client.get("/_echo/metrics")).text
    await client.post("/x", content=b"abcd")
    await client.request("MUX", "/x")
    after_response = await client.get("/_echo/metrics")
    after = after_response.text
    assert after_response.headers["content-type"].startswith("text/plain")
    assert sample(after, series) == sample(before, series) + 1
    assert sample(after, 'echo_http_requests_total{method="OTHER",status_class="2xx"}') == 1
    assert (
        sample(after, "echo_http_request_content_bytes_total")
        == sample(before, "echo_http_request_content_bytes_total") + 4
    )
    assert sample(after, "echo_http_request_duration_seconds_count") == 2
    assert "\necho_http_requests_in_flight 0.0\n" in after  # the scrape itself is left out
    assert "echo_websocket_connections_total" in after


async def test_the_in_flight_gauge_counts_requests_in_progress_but_not_the_scrape(harness: Harness) -> None:
    client, _ = harness()
    slow = asyncio.create_task(client.get("/x?echo_delay=300"))
    await asyncio.sleep(0.1)
    during = (await client.get("/_echo/metrics")).text
    await slow
    assert "\necho_http_requests_in_flight 1.0\n" in during


async def test_metrics_can_be_turned_off(harness: Harness) -> None:
    client, _ = harness(metrics=False)
    assert (await client.get("/_echo/metrics")).status_code == 404


async def test_config_shows_effective_settings(harness: Harness) -> None:
    client, _ = harness(max_delay_ms=1234, prefix="/_internal")
    response = await client.get("/_internal/config")
    document = response.json()
    assert document["max_delay_ms"] == 1234
    assert document["prefix"] == "/_internal"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert (await client.get("/_echo/config")).content.startswith(b"METHOD: GET")  # no longer reserved


async def test_line_writer_batches_lines_within_one_loop_turn() -> None:
    import asyncio
    import os

    from app.ops.access_log import LineWriter

    read_fd, write_fd = os.pipe()
    try:
        writer = LineWriter(write_fd)
        writer("first")
        writer("second \u2713")
        os.set_blocking(read_fd, False)
        with pytest.raises(BlockingIOError):
            os.read(read_fd, 100)  # nothing written yet: the batch waits for the end of this turn
        await asyncio.sleep(0)
        assert os.read(read_fd, 100) == "first\nsecond \u2713\n".encode()
        writer.max_buffer_bytes = 4
        writer("now")  # over the buffer bound: written at once
        assert os.read(read_fd, 100) == b"now\n"
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_line_writer_writes_at_once_outside_a_loop() -> None:
    import os

    from app.ops.access_log import LineWriter

    read_fd, write_fd = os.pipe()
    try:
        LineWriter(write_fd)("no loop")
        assert os.read(read_fd, 100) == b"no loop\n"
    finally:
        os.close(read_fd)
        os.close(write_fd)


async def test_the_apps_start_message_is_not_changed_in_place() -> None:
    # An app may send one constant start message for every request: the fields we add must not pile up in it.
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}

    async def constant_app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start)
        await send({"type": "http.response.body", "body": b"ok"})

    middleware = ObserveMiddleware(constant_app, prefix="/_echo", cors=Cors(("*",)), metrics=None, access_log=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=middleware), base_url=BASE_URL) as client:
        for _ in range(3):
            response = await client.get("/")
            assert len(response.headers.get_list("x-request-id")) == 1
    assert start["headers"] == [(b"content-type", b"text/plain")]


async def test_a_request_cancelled_at_shutdown_is_answered_and_recorded_as_503() -> None:
    async def cancelled(scope: Scope, receive: Receive, send: Send) -> None:
        raise asyncio.CancelledError  # what uvicorn does to requests still running at the graceful timeout

    lines: list[str] = []
    metrics = Metrics()
    middleware = ObserveMiddleware(
        cancelled, prefix="/_echo", cors=Cors(("*",)), metrics=metrics, access_log=AccessLog("text", lines.append)
    )
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/slow", "raw_path": b"/slow", "query_string": b"",
             "headers": [], "client": ("127.0.0.1", 9)}  # fmt: skip
    await middleware(scope, receive, send)
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"1") in sent[0]["headers"]
    assert '"GET /slow" 503 ' in lines[-1]
    assert b'echo_http_requests_total{method="GET",status_class="5xx"} 1.0' in metrics.exposition()
