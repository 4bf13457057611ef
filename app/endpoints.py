"""The echo endpoint: a raw ASGI callable, so a Starlette ``Route`` admits every method token."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope, Send

from app.body import read_body
from app.echo import RequestFacts, json_echo, text_echo
from app.negotiation import EchoFormat, format_from_accept, format_from_control
from app.responses import send_echo
from app.settings import Settings

TEXT_TYPE = b"text/plain; charset=utf-8"
JSON_TYPE = b"application/json"


class EchoEndpoint:
    """Answer any request with what it carried: text by default, JSON when asked (README, "JSON echo").

    Raises (mapped to plain responses in ``app.errors``):
        ContentTooLarge: the content exceeds ``settings.max_body_bytes``.
        InvalidControl: ``echo_format`` is not ``text`` or ``json``.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.hostname = socket.gethostname()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received_at = datetime.now(UTC)
        request = Request(scope, receive)
        echo_format = self._echo_format(request)
        try:
            body = await read_body(request, self.settings.max_body_bytes)
        except ClientDisconnect:
            return  # nobody is left to answer; not an error of ours
        facts = RequestFacts.from_scope(scope, body, received_at)
        head_only = scope["method"] == "HEAD"
        if echo_format == "json":
            await send_echo(send, JSON_TYPE, [json_echo(facts, self.hostname)], head_only=head_only)
        else:
            await send_echo(send, TEXT_TYPE, text_echo(facts), head_only=head_only)

    @staticmethod
    def _echo_format(request: Request) -> EchoFormat:
        control = request.query_params.getlist("echo_format")
        if control:
            return format_from_control(control[-1])
        accept = request.headers.getlist("accept")
        return format_from_accept(", ".join(accept) if accept else None)
