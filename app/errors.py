"""Exception types and the one place where they become short ``text/plain`` answers (never a traceback)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response

from app.server.refusal import CONNECT_NOT_ECHOED


class EchoError(Exception):
    """A refused request: HTTP ``status``, plain ``message``, extra response ``fields`` (such as ``Retry-After``)."""

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


class ServerActionsUnavailable(EchoError):
    """A control the server must carry out (``echo_fault``, ``echo_trailer``) under a server that offers no
    ``asgi_echo.actions`` scope extension, or a response it cannot carry (400)."""

    def __init__(self, control: str, why: str | None = None) -> None:
        super().__init__(
            f"{control}: {why}"
            if why
            else f"{control} needs the server's cooperation, which only the default protocol gives (python -m app, or "
            "uvicorn --http app.server.protocol:EchoHttpToolsProtocol; not h11, zttp or HTTP/2)"
        )


class ServerBusy(EchoError):
    """Request content in memory would pass ``ECHO_MAX_INFLIGHT_BYTES`` (503, ``Retry-After``: RFC 9110 §10.2.3)."""

    status = 503
    RETRY_AFTER_S = 1

    def __init__(self, max_inflight_bytes: int, held: str = "request content") -> None:
        super().__init__(
            f"Service Unavailable: {held} in memory would pass {max_inflight_bytes} bytes "
            "(ECHO_MAX_INFLIGHT_BYTES); retry shortly",
            {"retry-after": str(self.RETRY_AFTER_S)},
        )


class InvalidControl(EchoError):
    """An ``echo_*`` control has an unknown name or an invalid value (400)."""


def plain_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """The one error shape: ``text/plain`` ``"{status} {message}\\n"``, plus ``headers`` such as ``Allow`` on a 405
    (RFC 9110 §15.5.6)."""
    return PlainTextResponse(f"{status} {message}\n", status_code=status, headers=headers)


def error_response(exc: Exception) -> Response:
    """The status and message of an ``EchoError`` or ``HTTPException``, else a bare 500 (the caller re-raises
    that one, so the server logs its traceback)."""
    if isinstance(exc, EchoError):
        return plain_error(exc.status, exc.message, exc.fields)
    if isinstance(exc, HTTPException):
        return plain_error(exc.status_code, exc.detail, exc.headers)
    return plain_error(500, "Internal Server Error")
