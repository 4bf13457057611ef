"""One write per response: the writer alone, then through the protocol with a recording transport."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.server import ServerState

from app.server.coalesce import HOLD_MAX_BYTES, CoalescingWriter
from app.server.protocol import EchoHttpToolsProtocol
from tests.fake_transport import FakeTransport

HEAD = b"HTTP/1.1 200 OK\r\n\r\n"


class RecordingTransport(FakeTransport):
    """A fake transport that records each call that sends or closes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []

    def write(self, data: bytes) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, parts: Iterable[bytes]) -> None:
        self.calls.append(("writelines", b"|".join(parts)))

    def close(self) -> None:
        self.calls.append(("close", b""))
        super().close()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.calls.append(("write_eof", b""))

    def sent(self) -> bytes:
        """Every byte written, in order."""
        return b"".join(data.replace(b"|", b"") for call, data in self.calls if call.startswith("write"))


async def next_iterations(count: int = 3) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


def writer() -> tuple[CoalescingWriter, RecordingTransport]:
    transport = RecordingTransport()
    return CoalescingWriter(transport, asyncio.get_running_loop()), transport  # type: ignore[arg-type]


# The writer alone ------------------------------------------------------------------------------------------


async def test_a_small_write_is_carried_by_the_next_in_one_writelines() -> None:
    coalescing, transport = writer()
    coalescing.write(HEAD)
    assert transport.calls == []
    coalescing.write(b"content")
    assert transport.calls == [("writelines", HEAD + b"|content")]
    await next_iterations()
    assert transport.calls == [("writelines", HEAD + b"|content")]  # the scheduled flush finds nothing


async def test_a_held_write_goes_out_on_the_next_loop_iteration_when_nothing_follows() -> None:
    coalescing, transport = writer()
    coalescing.write(HEAD)
    await next_iterations()
    assert transport.calls == [("write", HEAD)]


async def test_a_large_write_goes_out_at_once() -> None:
    coalescing, transport = writer()
    large = b"x" * (HOLD_MAX_BYTES + 1)
    coalescing.write(large)
    assert transport.calls == [("write", large)]


async def test_writes_keep_their_order_however_many_come_in_one_iteration() -> None:
    coalescing, transport = writer()
    large = b"x" * (HOLD_MAX_BYTES + 1)
    for part in (b"a", b"b", large, b"c", b"d", b"e", large):
        coalescing.write(part)
    await next_iterations()
    assert transport.sent() == b"ab" + large + b"cde" + large
    # a+b, the large one alone (nothing held), c+d, then e held and carried by the last large one
    assert [call for call, _ in transport.calls] == ["writelines", "write", "writelines", "writelines"]


async def test_close_sends_what_is_held_first() -> None:
    coalescing, transport = writer()
    coalescing.write(HEAD)
    coalescing.close()
    assert transport.calls == [("write", HEAD), ("close", b"")]


async def test_what_is_held_is_dropped_once_the_transport_is_closing() -> None:
    coalescing, transport = writer()
    coalescing.write(HEAD)
    transport.closing = True
    await next_iterations()
    assert transport.calls == []


# Through the protocol --------------------------------------------------------------------------------------


async def serve(
    app: Any, request: bytes, iterations: int = 10, *, half_close: bool = False
) -> tuple[EchoHttpToolsProtocol, RecordingTransport]:
    """Feed ``request`` to a fresh protocol serving ``app`` (then the client's FIN when ``half_close``) and let
    the loop run ``iterations`` times."""
    config = Config(app=app, http=EchoHttpToolsProtocol, lifespan="off", log_level="warning")
    config.load()
    protocol = EchoHttpToolsProtocol(config, ServerState(), {}, _loop=asyncio.get_running_loop())
    transport = RecordingTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    protocol.data_received(request)
    if half_close:
        protocol.eof_received()
    await next_iterations(iterations)
    return protocol, transport


async def answer_ok(scope: Scope, receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def test_each_response_goes_out_as_one_writelines_of_head_and_content() -> None:
    requests = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n" + b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    protocol, transport = await serve(answer_ok, requests)
    assert [call for call, _ in transport.calls] == ["writelines", "writelines"]
    for _, data in transport.calls:
        head, content = data.split(b"|")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert head.endswith(b"\r\n\r\n")
        assert content == b"ok"
    protocol.connection_lost(None)


async def test_a_head_is_not_held_while_the_app_waits_before_its_content() -> None:
    release = asyncio.Event()

    async def slow_content(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await release.wait()
        await send({"type": "http.response.body", "body": b"ok"})

    protocol, transport = await serve(slow_content, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert [call for call, _ in transport.calls] == ["write"]
    assert transport.calls[0][1].startswith(b"HTTP/1.1 200 OK\r\n")
    release.set()
    await next_iterations()
    assert transport.calls[1:] == [("write", b"ok")]
    protocol.connection_lost(None)


async def test_100_continue_goes_out_while_the_app_waits_for_the_content() -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"
    protocol, transport = await serve(answer_ok, head)
    assert transport.calls == [("write", b"HTTP/1.1 100 Continue\r\n\r\n")]
    protocol.data_received(b"abc")
    await next_iterations()
    assert transport.sent().endswith(b"\r\n\r\nok")
    protocol.connection_lost(None)


async def test_a_response_that_closes_the_connection_is_sent_whole_before_the_close() -> None:
    protocol, transport = await serve(answer_ok, b"GET / HTTP/1.0\r\n\r\n")
    assert [call for call, _ in transport.calls] == ["writelines", "close"]
    assert transport.calls[0][1].endswith(b"|ok")
    protocol.connection_lost(None)


async def test_a_refusal_after_the_response_started_sends_the_held_head_before_closing() -> None:
    async def started_then_waits(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        while (await receive()).get("more_body"):  # the rest of the content never comes
            pass

    protocol, transport = await serve(
        started_then_waits, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab", iterations=0
    )
    await asyncio.sleep(0)  # the app runs and starts its response; the head is held
    assert transport.calls == []
    protocol.refuse(408, "Request Timeout: test")
    assert [call for call, _ in transport.calls] == ["write", "write_eof"]
    assert transport.calls[0][1].startswith(b"HTTP/1.1 200 OK\r\n")
    protocol.connection_lost(None)


async def test_nothing_stays_held_when_the_connection_closes_after_a_response() -> None:
    async def chunked(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b""})  # the last chunk: held, then the close

    # The client half-closed: the connection closes once this response is sent.
    protocol, transport = await serve(chunked, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", half_close=True)
    assert transport.sent().endswith(b"1\r\na\r\n0\r\n\r\n")
    assert transport.calls[-1] == ("close", b"")
    protocol.connection_lost(None)


async def test_a_held_write_goes_out_before_a_client_fin_closes_the_connection() -> None:
    async def stream_back(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (message := await receive())["type"] == "http.request":
            await send({"type": "http.response.body", "body": message["body"], "more_body": True})

    request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"
    protocol, transport = await serve(stream_back, request)
    protocol.data_received(b"def")
    await asyncio.sleep(0)  # the app writes "def", which is held until the next iteration
    # The client's FIN arrives in that same iteration; asyncio closes the transport when eof_received says so.
    if not protocol.eof_received():
        transport.close()
    assert transport.sent().endswith(b"3\r\ndef\r\n")
    assert transport.calls[-1] == ("close", b"")
    protocol.connection_lost(None)
