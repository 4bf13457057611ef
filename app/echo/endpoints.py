"""The echo endpoint: a raw ASGI callable, so every method token reaches it."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.types import Message, Receive, Scope, Send

from app.controls.negotiation import format_from_accept
from app.controls.parse import Controls, applied_field, may_hold_controls, parse_controls
from app.controls.sequences import StatusSequences
from app.echo.body import Body, InflightBudget, read_body
from app.echo.head import REQUEST_ID_KEY, HeadFacts, has_no_content, head_of
from app.echo.render import RequestFacts, json_echo, json_parse_bytes, render_bytes, text_echo
from app.echo.render_memory import log_record_bytes
from app.echo.responses import LAST_BODY, RawFields, chunked_messages, response_messages
from app.echo.stream import stream_content_type, stream_echo
from app.errors import ConnectNotEchoed, RawHeadUnavailable, ServerActionsUnavailable, ServerBusy
from app.server.actions import ServerActions, actions_of
from app.settings import Settings

TEXT_TYPE = b"text/plain; charset=utf-8"
JSON_TYPE = b"application/json"
MESSAGE_HTTP = b"message/http"  # RFC 9112 §10.1
THREAD_JSON_BYTES = 64 * 1024  # bodies larger than this get their JSON echo built in a worker thread
MIB = 1024 * 1024
VARY_ACCEPT = (b"vary", b"Accept")
NO_CONTROLS = Controls()
NO_CONTENT = Body((), 0)
#: Writes the echo of one request to the log, with its request id (``app.ops.echo_log.EchoLog.write``).
EchoLogWriter = Callable[[RequestFacts, str], None]
#: Told each fault carried out, by name (``app.ops.metrics.Metrics.count_fault``).
FaultCounter = Callable[[str], None]


class EchoEndpoint:
    """Answer any request with what it carried: text by default, JSON when asked, shaped by controls.

    Raises (``app.errors`` answers them): ``ConnectNotEchoed`` (501), ``RawHeadUnavailable`` (``echo_format=raw``
    without the raw head, 400), ``ServerActionsUnavailable`` (``echo_fault`` or ``echo_trailer`` where the server
    cannot carry it out, 400), ``ContentTooLarge`` / ``StreamTooLarge`` (413), ``InvalidControl`` (400).
    """

    def __init__(
        self,
        settings: Settings,
        echo_log: EchoLogWriter | None = None,
        budget: InflightBudget | None = None,
        count_fault: FaultCounter | None = None,
    ) -> None:
        self.settings = settings
        self.hostname = socket.gethostname()
        self.instance = settings.instance.as_document()
        self.sequences = StatusSequences()
        self.echo_log = echo_log
        self.budget = InflightBudget(settings.max_inflight_bytes) if budget is None else budget
        self.controls_on = settings.controls
        self.max_body_bytes = settings.max_body_bytes
        self.count_fault = count_fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received_at_s = time.time()
        method: str = scope["method"]
        if method == "CONNECT":
            raise ConnectNotEchoed
        head = head_of(scope)
        query_string: bytes = scope.get("query_string", b"")
        if self.controls_on and (head.has_echo_fields or (query_string and may_hold_controls(query_string))):
            controls = self._controls(query_string, scope["headers"])
            if controls.stream:
                await self._stream(receive, send, controls, head, method == "HEAD")
                return
            actions = _server_actions(scope, controls) if controls.fault or controls.trailers else None
        else:
            controls = NO_CONTROLS
            actions = None
        if has_no_content(scope, head):
            body = NO_CONTENT
        else:
            try:
                body = await read_body(Request(scope, receive), head.content_length, self.max_body_bytes, self.budget)
            except ClientDisconnect:
                return  # nobody is left to answer; not an error of ours
        try:
            facts = RequestFacts.from_scope(scope, body, received_at_s)
            if self.echo_log is not None:
                self._log(facts, scope.get(REQUEST_ID_KEY, b"-").decode("ascii"))
            if actions is not None and controls.fault in ("reset", "close"):
                await self._fault_without_answer(actions, controls)
                return
            await self._echo(
                send, facts, controls, format_from_accept(head.accept), head.content_type, method == "HEAD", actions
            )
        finally:
            self.budget.release(body.size_bytes)

    def _log(self, facts: RequestFacts, request_id: str) -> None:
        """The echo-log record, its rendering held in the in-flight budget while it is written."""
        assert self.echo_log is not None
        record_bytes = log_record_bytes(facts.body.chunks)
        if record_bytes:
            self.budget.reserve(record_bytes, f"the echo-log record (about {record_bytes // MIB + 1} MiB)")
        try:
            self.echo_log(facts, request_id)
        finally:
            self.budget.release(record_bytes)

    async def _echo(
        self,
        send: Send,
        facts: RequestFacts,
        controls: Controls,
        accepted_format: str,
        request_type: bytes | None,
        head_only: bool,
        actions: ServerActions | None = None,
    ) -> None:
        """The echo in the format asked for (a control, else ``Accept``), shaped by the controls; ``actions`` carry
        out ``echo_fault=truncate`` and ``echo_trailer``."""
        status, applied, fields = self._applied(controls) if controls is not NO_CONTROLS else (200, {}, [])
        echo_format = controls.format or accepted_format
        json_document = echo_format == "json" and controls.body is None
        # Rendering escapes the content (up to six bytes for one) and parsed JSON takes many times its text: both
        # are held in the in-flight budget too; past it, rendering is refused (503), parsing skipped.
        held_bytes = render_bytes(request_type, facts.body) if json_document else 0
        if held_bytes:
            self.budget.reserve(held_bytes, f"rendering the JSON echo (about {held_bytes // MIB + 1} MiB)")
        parse_bytes = json_parse_bytes(request_type, facts.body) if json_document else 0
        unparsed: str | None = None
        if parse_bytes:
            try:
                self.budget.reserve(parse_bytes)
            except ServerBusy:
                unparsed = (
                    f"not parsed: parsing would hold about {parse_bytes // MIB + 1} MiB, more than "
                    "ECHO_MAX_INFLIGHT_BYTES has free"
                )
                parse_bytes = 0
        held_bytes += parse_bytes
        try:
            if json_document and facts.body.size_bytes > THREAD_JSON_BYTES:
                # Off the event loop: parsing a large body is slow (_content is pure).
                rendered = await asyncio.to_thread(self._content, facts, controls, echo_format, applied, unparsed)
            else:
                rendered = self._content(facts, controls, echo_format, applied, unparsed)
            content_type, parts, content_fields = rendered
            if controls.delay_ms:
                await asyncio.sleep(controls.delay_ms / 1000)
            if fields:
                content_fields = [*fields, *content_fields]
            if actions is None:
                messages = response_messages(status, content_type, parts, head_only=head_only, fields=content_fields)
                for message in messages:
                    await send(message)
            elif controls.trailers:
                await _send_with_trailers(
                    send, actions, status, content_type, parts, head_only, content_fields, controls
                )
            else:
                messages = response_messages(status, content_type, parts, head_only=head_only, fields=content_fields)
                await self._send_truncated(send, actions, messages, controls.truncate_after_bytes)
        finally:
            self.budget.release(held_bytes)

    async def _fault_without_answer(self, actions: ServerActions, controls: Controls) -> None:
        """``echo_fault=reset`` or ``close``, after any delay: the connection ends and no answer is sent."""
        if controls.delay_ms:
            await asyncio.sleep(controls.delay_ms / 1000)
        if controls.fault == "reset":
            actions.reset()
        else:
            actions.close()
        if self.count_fault is not None:
            self.count_fault(controls.fault or "")

    async def _send_truncated(
        self, send: Send, actions: ServerActions, messages: list[Message], after_bytes: int
    ) -> None:
        """``echo_fault=truncate:<after_bytes>``: the head with the full ``Content-Length``, that many content bytes
        (all of it when it is shorter), then a clean close."""
        await send(messages[0])
        remaining = after_bytes
        for message in messages[1:]:
            piece: bytes = message.get("body", b"")[:remaining]
            if piece:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                remaining -= len(piece)
        actions.close()
        if self.count_fault is not None:
            self.count_fault("truncate")

    async def _stream(self, receive: Receive, send: Send, controls: Controls, head: HeadFacts, head_only: bool) -> None:
        """``echo_mode=stream``: the content sent back as it arrives (``app.echo.stream``), after any delay."""
        status, _, fields = self._applied(controls)
        await asyncio.sleep(controls.delay_ms / 1000)
        await stream_echo(
            receive,
            send,
            status=status,
            content_type=stream_content_type(head.content_type),
            declared_length=head.content_length,
            max_stream_bytes=self.settings.max_stream_bytes,
            head_only=head_only,
            fields=[*fields, *((name.encode("latin-1"), value.encode("latin-1")) for name, value in controls.headers)],
        )

    def _content(
        self,
        facts: RequestFacts,
        controls: Controls,
        echo_format: str,
        applied: dict[str, Any],
        unparsed: str | None = None,
    ) -> tuple[bytes, list[bytes], RawFields]:
        """The content type, content parts and fields of the response (pure: no I/O). Raises ``RawHeadUnavailable``
        for ``echo_format=raw`` without the raw head."""
        control_fields = (
            [(name.encode("latin-1"), value.encode("latin-1")) for name, value in controls.headers]
            if controls.headers
            else []
        )
        if controls.body is not None:
            content_type = (controls.content_type or "text/plain; charset=utf-8").encode("latin-1")
            return content_type, [controls.body], control_fields
        if echo_format == "raw":
            if facts.wire is None or not facts.wire.raw_head:
                raise RawHeadUnavailable
            if facts.wire.raw_trailers:  # after the content, as the trailer section follows it on the wire
                return MESSAGE_HTTP, [facts.wire.raw_head, *facts.body.chunks, facts.wire.raw_trailers], control_fields
            return MESSAGE_HTTP, [facts.wire.raw_head, *facts.body.chunks], control_fields
        if echo_format == "json":
            document = json_echo(facts, self.hostname, applied, self.instance, unparsed)
            return JSON_TYPE, [document], [VARY_ACCEPT, *control_fields]
        parts = text_echo(facts.method, facts.target, facts.headers, facts.wire, facts.body.chunks)
        return TEXT_TYPE, parts, [VARY_ACCEPT, *control_fields]

    def _controls(self, query_string: bytes, headers: list[tuple[bytes, bytes]]) -> Controls:
        return parse_controls(
            query_string,
            headers,
            max_delay_ms=self.settings.max_delay_ms,
            allow_active_content=self.settings.allow_active_content,
        )

    def _applied(self, controls: Controls) -> tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]:
        """The status to send, what the controls changed, and the ``X-Echo-Applied`` field when they did."""
        status = self._status(controls)
        applied = controls.applied(status)
        fields = [(b"x-echo-applied", applied_field(applied).encode("latin-1"))] if applied else []
        return status, applied, fields

    def _status(self, controls: Controls) -> int:
        if not controls.statuses:
            return 200
        if controls.sequence is None:
            return controls.statuses[0]
        return self.sequences.next_status(controls.sequence, controls.statuses)


def _server_actions(scope: Scope, controls: Controls) -> ServerActions:
    """The server's actions for ``echo_fault`` / ``echo_trailer``; raises ``ServerActionsUnavailable``."""
    control = "echo_fault" if controls.fault else "echo_trailer"
    actions = actions_of(scope)
    if actions is None:
        raise ServerActionsUnavailable(control)
    if controls.trailers and scope.get("http_version") != "1.1":
        # A trailer section needs chunked transfer coding, which HTTP/1.0 lacks (RFC 9112 §7).
        raise ServerActionsUnavailable("echo_trailer", "response trailers need HTTP/1.1 (chunked transfer coding)")
    return actions


async def _send_with_trailers(
    send: Send,
    actions: ServerActions,
    status: int,
    content_type: bytes,
    parts: list[bytes],
    head_only: bool,
    fields: RawFields,
    controls: Controls,
) -> None:
    """The response chunked, with ``Trailer`` naming its trailer fields (RFC 9110 §6.6.2), then the trailer
    section (RFC 9112 §7.1.2). HEAD gets the same fields and no content."""
    names = ", ".join(name for name, _ in controls.trailers).encode("latin-1")
    for message in chunked_messages(
        status, content_type, parts, head_only=head_only, fields=[*fields, (b"trailer", names)]
    ):
        await send(message)
    trailer_fields = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in controls.trailers]
    actions.trailers(trailer_fields)  # False for HEAD: nothing to carry them
    await send(LAST_BODY)
