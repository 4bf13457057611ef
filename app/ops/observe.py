"""The one pure-ASGI middleware: request ids, CORS, metrics, the access log, error answers; one wrapper on purpose,
each concern's logic in its own module."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import time
from collections.abc import Awaitable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.echo.head import HEAD_KEY, REQUEST_ID_KEY, has_no_content, scan_head
from app.errors import EchoError, error_response
from app.ops.access_log import AccessLog
from app.ops.cors import Cors
from app.ops.metrics import Metrics
from app.server.wire import wire_of

_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
#: Logged once when the app runs without the echo protocol (plain ``uvicorn app.main:app``).
WITHOUT_ECHO_PROTOCOL = (
    "asgi-echo runs without its protocol: no raw head, no field names as sent, no TCP peer, no head limits or "
    "timeouts, and X-Forwarded-For may replace the client; run `python -m app`, or add "
    "`--http app.server.protocol:EchoHttpToolsProtocol --no-proxy-headers` to uvicorn"
)
#: On every response: echoes hold attacker-chosen bytes and often credentials, so browsers must not sniff them
#: into HTML and caches must not keep them (RFC 9111 §5.2.2.5).
SAFETY_FIELDS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
)


class RequestIds:
    """Request ids: a random per-process prefix and a counter."""

    def __init__(self) -> None:
        self._prefix = os.urandom(6).hex().encode("ascii") + b"-"
        self._counter = itertools.count(1)

    def pick(self, given: bytes | None) -> bytes:
        """The client's ``X-Request-Id`` when it is 1-128 of ``[A-Za-z0-9._-]``, else a new id."""
        if given is not None and _VALID_REQUEST_ID.fullmatch(given):
            return given
        return self._prefix + b"%x" % next(self._counter)


class ObserveMiddleware:
    """Adds ``X-Request-Id``, CORS and safety fields, answers preflights, counts and logs, turns exceptions into plain
    answers. Requests under ``prefix`` are neither counted nor logged, so scrapes and probes move no figure."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        cors: Cors,
        metrics: Metrics | None,
        access_log: AccessLog | None,
    ) -> None:
        self.app = app
        self.own_prefix = prefix + "/"
        self.cors = cors
        self.metrics = metrics
        self.access_log = access_log
        self.request_ids = RequestIds()
        self.warned_without_protocol = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self.access_log is not None:
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        head = scope[HEAD_KEY] = scan_head(scope["headers"])  # the endpoint reads it too: one pass
        origin = head.origin
        request_id = self.request_ids.pick(head.request_id)
        scope[REQUEST_ID_KEY] = request_id
        id_field = (b"x-request-id", request_id)
        added_fields = [id_field, *self.cors.response_fields(origin), *SAFETY_FIELDS]
        status = 0
        request_bytes = response_bytes = 0

        def observed_send(message: Message) -> Awaitable[None]:
            # Not a coroutine: it returns the server's awaitable.
            nonlocal status, response_bytes
            if message["type"] == "http.response.start":
                status = message["status"]
                # A new message: the app may send the same start message for every request.
                message = {**message, "headers": [*message["headers"], *added_fields]}
            else:
                response_bytes += len(message.get("body", b""))
            return send(message)

        # The protocol counts content bytes in the wire facts; under another server a receive wrapper does.
        wire = wire_of(scope)
        if wire is None and not self.warned_without_protocol:
            self.warned_without_protocol = True
            logging.getLogger("uvicorn.error").warning(WITHOUT_ECHO_PROTOCOL)
        counted_receive = receive
        if wire is None and not has_no_content(scope, head):

            async def observed_receive() -> Message:
                nonlocal request_bytes
                message = await receive()
                request_bytes += len(message.get("body", b""))
                return message

            counted_receive = observed_receive

        metrics = self.metrics
        if metrics is not None:
            metrics.in_flight += 1
        try:
            if scope["method"] == "OPTIONS" and origin is not None and head.preflight_method is not None:
                status = 204
                await self.cors.send_preflight(
                    send, origin, head.preflight_method, head.preflight_headers, [id_field, *SAFETY_FIELDS]
                )
            else:
                await self.app(scope, counted_receive, observed_send)
        except Exception as exc:
            if status:
                raise  # the response has started: the server logs it and closes the connection
            await error_response(exc)(scope, receive, observed_send)
            if not isinstance(exc, EchoError | HTTPException):
                raise  # unexpected: the server logs the traceback (the client got a bare 500)
        except asyncio.CancelledError:
            # uvicorn cancels the requests still running when the graceful-shutdown timeout ends. One
            # that has not started its response gets a clean 503 instead of uvicorn's 500 and traceback.
            if status:
                raise
            status = 503
            response_bytes = await send_shutdown_refusal(send, added_fields)
        finally:
            if metrics is not None:
                metrics.in_flight -= 1
            if not scope["path"].startswith(self.own_prefix):
                if wire is not None:
                    request_bytes = wire.content_bytes
                self._record(scope, status, request_bytes, response_bytes, started, request_id)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket session, logged as one access-log line when it ends: its handshake (``GET``, ``101`` when
        accepted, else the refusal's status), the message bytes each way and how long it lasted."""
        started = time.perf_counter()
        request_id = self.request_ids.pick(scan_head(scope["headers"]).request_id)
        status = 0
        received_bytes = sent_bytes = 0

        async def observed_receive() -> Message:
            nonlocal received_bytes
            message = await receive()
            received_bytes += _message_bytes(message)
            return message

        def observed_send(message: Message) -> Awaitable[None]:
            nonlocal status, sent_bytes
            kind = message["type"]
            if kind == "websocket.accept":
                status = 101
            elif kind == "websocket.close" and not status:
                status = 403  # closed before accepting: the server refuses the handshake
            elif kind == "websocket.http.response.start":
                status = message["status"]
            else:
                sent_bytes += _message_bytes(message)
            return send(message)

        try:
            await self.app(scope, observed_receive, observed_send)
        finally:
            if not scope["path"].startswith(self.own_prefix):
                duration_s = time.perf_counter() - started
                self._log_line(scope, "GET", status, received_bytes, sent_bytes, duration_s, request_id)

    def _record(
        self, scope: Scope, status: int, request_bytes: int, response_bytes: int, started: float, request_id: bytes
    ) -> None:
        duration_s = time.perf_counter() - started
        if self.metrics is not None:
            self.metrics.observe_request(scope["method"], status, request_bytes, response_bytes, duration_s)
        self._log_line(scope, scope["method"], status, request_bytes, response_bytes, duration_s, request_id)

    def _log_line(
        self,
        scope: Scope,
        method: str,
        status: int,
        request_bytes: int,
        response_bytes: int,
        duration_s: float,
        request_id: bytes,
    ) -> None:
        if self.access_log is not None:
            query_string: bytes = scope.get("query_string", b"")
            raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
            self.access_log.write(
                client=scope.get("client"),
                method=method,
                target=raw_path + b"?" + query_string if query_string else raw_path,
                status=status,
                request_bytes=request_bytes,
                response_bytes=response_bytes,
                duration_ms=duration_s * 1000,
                request_id=request_id.decode("ascii"),
            )


def _message_bytes(message: Message) -> int:
    """Content bytes of a WebSocket message (text counted as UTF-8), or of a refusal's body."""
    text = message.get("text")
    if text is not None:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(message.get("bytes") or message.get("body") or b"")


class WebSocketLogFilter(logging.Filter):
    """Drops uvicorn's own ``"WebSocket /path" [accepted]`` lines: the access log has one line per session."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith('%s - "WebSocket %s"'))


async def send_shutdown_refusal(send: Send, fields: list[tuple[bytes, bytes]]) -> int:
    """503 with ``Retry-After`` and ``Connection: close`` at shutdown; returns the content length sent, in bytes."""
    content = b"503 Service Unavailable: the server is shutting down; retry\n"
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(content)).encode("ascii")),
        (b"retry-after", b"1"),
        (b"connection", b"close"),
        *fields,
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": content})
    return len(content)
