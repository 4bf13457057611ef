"""Every row of the README's protocol table, against real uvicorn servers over loopback sockets."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.cases import DEFAULT_METHODS, OTHER_METHODS
from tests.rawhttp import echoed_line, exchange
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server


@dataclass(frozen=True)
class ProtocolRow:
    """What one ``--http`` choice accepts, as the README's table states it."""

    options: tuple[str, ...]
    other_methods_status: int
    absolute_form_target: str
    fields_150_status: int
    connect_status: int
    pri_status: int  # llhttp knows PRI only as the HTTP/2 connection preface (RFC 9113 §3.4)


ROWS = {
    "default": ProtocolRow((), 501, "/p?q=1", 200, 501, 400),  # app.server.protocol:EchoHttpToolsProtocol
    "httptools": ProtocolRow(("--http", "httptools"), 400, "/p?q=1", 200, 400, 400),
    "h11": ProtocolRow(("--http", "h11"), 200, "http://example.test/p?q=1", 200, 501, 200),
    "zttp": ProtocolRow(("--http", "zttp"), 200, "http://example.test/p?q=1", 400, 501, 200),
}


@pytest.fixture(params=list(ROWS), ids=list(ROWS))
def row(request: pytest.FixtureRequest, server_pool: ServerPool) -> Iterator[tuple[ProtocolRow, RunningServer]]:
    protocol_row = ROWS[request.param]
    running = server_pool.get(protocol_row.options)
    with running.clean_log():
        yield protocol_row, running


def request_line(method: str, target: str = "/m", extra: str = "") -> bytes:
    return f"{method} {target} HTTP/1.1\r\nHost: example.test\r\nContent-Length: 0\r\n{extra}\r\n".encode()


async def test_default_methods_are_echoed(row: tuple[ProtocolRow, RunningServer]) -> None:
    _, running = row
    for method in DEFAULT_METHODS:
        response = await exchange(running.port, request_line(method), head=method == "HEAD")
        assert response.status == 200, method
        if method != "HEAD":
            assert echoed_line(response, "METHOD") == method


async def test_other_method_tokens(row: tuple[ProtocolRow, RunningServer]) -> None:
    protocol_row, running = row
    for method in OTHER_METHODS:
        response = await exchange(running.port, request_line(method))
        expected = protocol_row.pri_status if method == "PRI" else protocol_row.other_methods_status
        assert response.status == expected, method
        if response.status == 200:
            assert echoed_line(response, "METHOD") == method


async def test_absolute_form_target(row: tuple[ProtocolRow, RunningServer]) -> None:
    protocol_row, running = row
    response = await exchange(running.port, request_line("GET", "http://example.test/p?q=1"))
    assert response.status == 200
    assert echoed_line(response, "TARGET") == protocol_row.absolute_form_target


@pytest.mark.parametrize(
    ("method", "target", "echoed"),
    [
        ("GET", "http://example.test", "/"),  # RFC 9110 §4.2.3
        ("GET", "http://example.test?q=1", "/?q=1"),
        ("OPTIONS", "http://example.test", "*"),  # RFC 9112 §3.2.4
        ("OPTIONS", "http://example.test?q=1", "/?q=1"),
        ("OPTIONS", "http://example.test?", "/"),  # an empty query is still a query: not *
    ],
)
async def test_absolute_form_without_a_path(server: RunningServer, method: str, target: str, echoed: str) -> None:
    # Only the default protocol: stock httptools answers 400 (uvicorn finds no path to decode).
    response = await exchange(server.port, request_line(method, target))
    assert response.status == 200
    assert echoed_line(response, "TARGET") == echoed


async def test_stock_httptools_refuses_absolute_form_without_a_path(server_pool: ServerPool) -> None:
    # The README's table says so for the stock row: the reason the default protocol mends it.
    running = server_pool.get(ROWS["httptools"].options)
    response = await exchange(running.port, request_line("GET", "http://example.test"))
    assert response.status == 400


async def test_asterisk_form_options(row: tuple[ProtocolRow, RunningServer]) -> None:
    _, running = row
    response = await exchange(running.port, request_line("OPTIONS", "*"))
    assert response.status == 200
    assert echoed_line(response, "METHOD") == "OPTIONS"
    assert echoed_line(response, "TARGET") == "*"


async def test_header_section_with_150_fields(row: tuple[ProtocolRow, RunningServer]) -> None:
    protocol_row, running = row
    fields = "".join(f"X-Field-{i}: value-{i}\r\n" for i in range(150))
    response = await exchange(running.port, request_line("GET", "/many", fields))
    assert response.status == protocol_row.fields_150_status
    if response.status == 200:
        assert b"X-Field-149: value-149\n" in response.content


async def test_header_section_with_100_fields_is_echoed_everywhere(row: tuple[ProtocolRow, RunningServer]) -> None:
    _, running = row
    # Host, Content-Length and 98 more: zttp's ceiling is 100 field lines.
    fields = "".join(f"X-Field-{i}: v\r\n" for i in range(98))
    response = await exchange(running.port, request_line("GET", "/hundred", fields))
    assert response.status == 200


async def test_connect_is_never_answered_with_2xx(row: tuple[ProtocolRow, RunningServer]) -> None:
    protocol_row, running = row
    response = await exchange(running.port, b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")
    assert response.status == protocol_row.connect_status
    # The connection was not turned into a tunnel: a new request is served normally.
    assert (await exchange(running.port, request_line("GET"))).status == 200
