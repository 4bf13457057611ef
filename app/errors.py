"""Exception types and the one place where they become HTTP responses.

Every error answer is a short ``text/plain`` message with the same safety fields as an echo; no
traceback ever reaches a client (Starlette's ``debug`` stays off).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response

from app.server.refusal import CONNECT_NOT_ECHOED


class EchoError(Exception):
    """A request the server refuses; ``status`` is the HTTP status, ``message`` the plain reason,
    ``fields`` extra response fields (such as ``Retry-After``)."""

    status = 400

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class ContentTooLarge(EchoError):
    """The request content exceeds ``max_body_bytes`` (RFC 9110 §15.5.14, 413)."""

    status = 413

    def __init__(self, max_body_bytes: int) -> None:
        super().__init__(
            f"Content Too Large: the request content exceeds the limit of {max_body_bytes} bytes (ECHO_MAX_BODY_BYTES)"
        )


class ConnectNotEchoed(EchoError):
    """CONNECT cannot be echoed: a 2xx answer opens a tunnel (RFC 9110 §9.3.6), so it gets 501."""

    status = 501

    def __init__(self) -> None:
        super().__init__(CONNECT_NOT_ECHOED)


class RawHeadUnavailable(EchoError):
    """``echo_format=raw`` where the request head was not kept as received (400)."""

    def __init__(self) -> None:
        super().__init__(
            "echo_format=raw needs the request head as received, which only the default protocol keeps "
            "(uvicorn --http app.server.protocol:EchoHttpToolsProtocol; not h11, zttp or HTTP/2)"
        )


class ServerBusy(EchoError):
    """Request content in memory across all requests would pass ``ECHO_MAX_INFLIGHT_BYTES`` (503).

    ``Retry-After`` (RFC 9110 §10.2.3) tells the client when to try again, in seconds.
    """

    status = 503
    RETRY_AFTER_S = 1

    def __init__(self, max_inflight_bytes: int) -> None:
        super().__init__(
            f"Service Unavailable: request content in memory would pass {max_inflight_bytes} bytes "
            "(ECHO_MAX_INFLIGHT_BYTES); retry shortly",
            {"retry-after": str(self.RETRY_AFTER_S)},
        )


class InvalidControl(EchoError):
    """An ``echo_*`` control has an unknown name or an invalid value (400)."""


def plain_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """Build the one error shape: ``text/plain`` body ``message`` plus a newline.

    ``headers`` adds fields the status calls for, e.g. ``Allow`` on a 405 (RFC 9110 §15.5.6).
    """
    return PlainTextResponse(f"{status} {message}\n", status_code=status, headers=headers)


def error_response(exc: Exception) -> Response:
    """The plain answer to an exception raised while handling a request.

    ``EchoError`` gives its own status and message; Starlette's ``HTTPException`` (404 and 405 from the
    router, with ``Allow``) its status and detail; anything else a bare 500 (the caller re-raises it, so
    the server logs the traceback and no client ever sees one).
    """
    if isinstance(exc, EchoError):
        return plain_error(exc.status, exc.message, exc.fields)
    if isinstance(exc, HTTPException):
        return plain_error(exc.status_code, exc.detail, exc.headers)
    return plain_error(500, "Internal Server Error")
