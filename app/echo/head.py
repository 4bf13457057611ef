"""The few header fields the server acts on, found in one pass; ``ObserveMiddleware`` leaves them under ``HEAD_KEY``."""

from __future__ import annotations

from starlette.types import Scope

from app.controls.parse import FIELD_PREFIX

HEAD_KEY = "asgi_echo.head"
REQUEST_ID_KEY = "asgi_echo.request_id"


# A plain class, not a dataclass: built per request, and mypyc compiles a written __init__.
class HeadFacts:
    """What the server reads from the fields, None where absent: ``content_length`` in bytes (also None when not a
    plain decimal, RFC 9112 §6.2, or overridden by ``Transfer-Encoding``, §6.3); ``framed`` when either is present;
    the first ``content_type``; every ``Accept`` joined with ``,``; whether an ``X-Echo-*`` field is present; the
    last ``X-Request-Id``, ``Origin`` and ``Access-Control-Request-Method``/``-Headers`` (CORS preflight)."""

    __slots__ = (
        "accept",
        "content_length",
        "content_type",
        "framed",
        "has_echo_fields",
        "origin",
        "preflight_headers",
        "preflight_method",
        "request_id",
    )

    def __init__(
        self,
        content_length: int | None,
        framed: bool,
        content_type: bytes | None,
        accept: str | None,
        has_echo_fields: bool,
        request_id: bytes | None,
        origin: bytes | None,
        preflight_method: bytes | None,
        preflight_headers: bytes | None,
    ) -> None:
        self.content_length = content_length
        self.framed = framed
        self.content_type = content_type
        self.accept = accept
        self.has_echo_fields = has_echo_fields
        self.request_id = request_id
        self.origin = origin
        self.preflight_method = preflight_method
        self.preflight_headers = preflight_headers


# The fields scan_head acts on, by name.
(
    _CONTENT_LENGTH,
    _TRANSFER_ENCODING,
    _CONTENT_TYPE,
    _ACCEPT,
    _REQUEST_ID,
    _ORIGIN,
    _PREFLIGHT_METHOD,
    _PREFLIGHT_HEADERS,
) = range(8)
_ACTED_ON = {
    b"content-length": _CONTENT_LENGTH,
    b"transfer-encoding": _TRANSFER_ENCODING,
    b"content-type": _CONTENT_TYPE,
    b"accept": _ACCEPT,
    b"x-request-id": _REQUEST_ID,
    b"origin": _ORIGIN,
    b"access-control-request-method": _PREFLIGHT_METHOD,
    b"access-control-request-headers": _PREFLIGHT_HEADERS,
}


def scan_head(headers: list[tuple[bytes, bytes]]) -> HeadFacts:
    """Read ``HeadFacts`` from ASGI header pairs (names lowercase)."""
    content_length: int | None = None
    framed = chunked = has_echo_fields = False
    content_type = request_id = origin = preflight_method = preflight_headers = None
    accept: list[bytes] = []
    for name, value in headers:
        field = _ACTED_ON.get(name)
        if field is None:
            if name.startswith(FIELD_PREFIX):
                has_echo_fields = True
        elif field == _CONTENT_LENGTH:
            content_length = parse_content_length(value)
            framed = True
        elif field == _CONTENT_TYPE:
            if content_type is None:
                content_type = value
        elif field == _ACCEPT:
            accept.append(value)
        elif field == _TRANSFER_ENCODING:
            framed = chunked = True
        elif field == _REQUEST_ID:
            request_id = value
        elif field == _ORIGIN:
            origin = value
        elif field == _PREFLIGHT_METHOD:
            preflight_method = value
        else:
            preflight_headers = value
    if chunked:
        content_length = None  # Transfer-Encoding overrides Content-Length (RFC 9112 §6.3)
    return HeadFacts(
        content_length,
        framed,
        content_type,
        b", ".join(accept).decode("latin-1") if accept else None,
        has_echo_fields,
        request_id,
        origin,
        preflight_method,
        preflight_headers,
    )


#: A ``Content-Length`` of more digits than this is past every ceiling; it is not converted as written.
MAX_LENGTH_DIGITS = 18


def parse_content_length(value: bytes) -> int | None:
    """A ``Content-Length`` in bytes, None when not a plain decimal (RFC 9112 §6.2); past ``MAX_LENGTH_DIGITS``
    digits ``10**MAX_LENGTH_DIGITS``, which every ceiling refuses (``int()`` refuses over 4,300 digits)."""
    if not value.isdigit():
        return None
    return int(value) if len(value) <= MAX_LENGTH_DIGITS else 10**MAX_LENGTH_DIGITS


HTTP1_VERSIONS = frozenset({"1.0", "1.1"})


def has_no_content(scope: Scope, head: HeadFacts) -> bool:
    """True for an HTTP/1.x request without ``Content-Length`` or ``Transfer-Encoding``: it has no content (RFC 9112
    §6.3). HTTP/2 and HTTP/3 may send content without ``Content-Length``."""
    return not head.framed and scope.get("http_version", "1.1") in HTTP1_VERSIONS


def head_of(scope: Scope) -> HeadFacts:
    """The request's ``HeadFacts``: the middleware's scan, else a new one."""
    head: HeadFacts | None = scope.get(HEAD_KEY)
    return head if head is not None else scan_head(scope["headers"])
