"""The echo endpoint: a raw ASGI callable, so a Starlette ``Route`` admits every method token."""

from __future__ import annotations

import asyncio
import socket
import time

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope, Send

from app.body import declared_length, read_body
from app.controls import Controls, applied_field, has_controls, parse_controls
from app.echo import RequestFacts, json_echo, text_echo
from app.echo_log import EchoLog
from app.errors import ConnectNotEchoed
from app.negotiation import EchoFormat, format_from_accept
from app.observe import REQUEST_ID_KEY
from app.responses import RawFields, send_parts
from app.sequences import StatusSequences
from app.settings import Settings
from app.stream import stream_content_type, stream_echo

TEXT_TYPE = b"text/plain; charset=utf-8"
JSON_TYPE = b"application/json"
VARY_ACCEPT = (b"vary", b"Accept")
NO_CONTROLS = Controls()


class EchoEndpoint:
    """Answer any request with what it carried: text by default, JSON when asked, shaped by controls.

    Raises (mapped to plain responses in ``app.errors``):
        ConnectNotEchoed: the method is CONNECT (501).
        ContentTooLarge / StreamTooLarge: the content exceeds its ceiling (413).
        InvalidControl: an unknown or invalid ``echo_*`` / ``X-Echo-*`` control (400).
    """

    def __init__(self, settings: Settings, echo_log: EchoLog | None = None) -> None:
        self.settings = settings
        self.hostname = socket.gethostname()
        self.instance = settings.instance.as_document()
        self.sequences = StatusSequences()
        self.echo_log = echo_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received_at_s = time.time()
        if scope["method"] == "CONNECT":
            raise ConnectNotEchoed
        request = Request(scope, receive)
        controls = self._controls(scope)
        status = self._status(controls)
        applied = controls.applied(status)
        fields: RawFields = [(b"x-echo-applied", applied_field(applied).encode("latin-1"))] if applied else []
        head_only = scope["method"] == "HEAD"
        if controls.stream:
            await asyncio.sleep(controls.delay_ms / 1000)
            content_type = stream_content_type(request.headers.get("content-type", "").encode("latin-1"))
            await stream_echo(
                receive,
                send,
                status=status,
                content_type=content_type,
                declared_length=declared_length(request),
                max_stream_bytes=self.settings.max_stream_bytes,
                head_only=head_only,
                fields=fields,
            )
            return
        try:
            body = await read_body(request, self.settings.max_body_bytes)
        except ClientDisconnect:
            return  # nobody is left to answer; not an error of ours
        facts = RequestFacts.from_scope(scope, body, received_at_s)
        if self.echo_log is not None:
            self.echo_log.write(facts, scope.get(REQUEST_ID_KEY, "-"))
        if controls.delay_ms:
            await asyncio.sleep(controls.delay_ms / 1000)
        if controls.body is not None:
            content_type = (controls.content_type or "text/plain; charset=utf-8").encode("latin-1")
            parts = [controls.body]
        elif self._echo_format(scope, controls) == "json":
            content_type, parts = JSON_TYPE, [json_echo(facts, self.hostname, applied, self.instance)]
            fields = [*fields, VARY_ACCEPT]
        else:
            content_type, parts = TEXT_TYPE, text_echo(facts)
            fields = [*fields, VARY_ACCEPT]
        fields = [*fields, *((name.encode("latin-1"), value.encode("latin-1")) for name, value in controls.headers)]
        await send_parts(send, status, content_type, parts, head_only=head_only, fields=fields)

    def _controls(self, scope: Scope) -> Controls:
        query_string: bytes = scope.get("query_string", b"")
        headers = scope["headers"]
        if not self.settings.controls or not has_controls(query_string, headers):
            return NO_CONTROLS
        return parse_controls(
            query_string,
            headers,
            max_delay_ms=self.settings.max_delay_ms,
            allow_active_content=self.settings.allow_active_content,
        )

    def _status(self, controls: Controls) -> int:
        if not controls.statuses:
            return 200
        if controls.sequence is None:
            return controls.statuses[0]
        return self.sequences.next_status(controls.sequence, controls.statuses)

    @staticmethod
    def _echo_format(scope: Scope, controls: Controls) -> EchoFormat:
        if controls.format is not None:
            return controls.format
        accept = [value for name, value in scope["headers"] if name == b"accept"]
        return format_from_accept(b", ".join(accept).decode("latin-1") if accept else None)
