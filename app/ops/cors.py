"""CORS for browser callers, after the Fetch standard's CORS protocol (fetch.spec.whatwg.org, §3.2).

Our own small implementation: Starlette's CORSMiddleware refuses preflights for method tokens it does
not list (PROPFIND, MUX) and cost about a fifth of the throughput of a raw ASGI echo here.
Every field list is built once; per request the work is a lookup.
"""

from __future__ import annotations

import re

from starlette.types import Send

RawField = tuple[bytes, bytes]
EXPOSED = (b"access-control-expose-headers", b"X-Request-Id, X-Echo-Applied")
PREFLIGHT_MAX_AGE_S = b"600"
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TOKEN_LIST = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*")


class Cors:
    """Decides the CORS fields of each response for the configured origins (``*`` or a list)."""

    def __init__(self, origins: tuple[str, ...]) -> None:
        self.any_origin = origins == ("*",)
        self.origins = frozenset(origin.encode("latin-1") for origin in origins)
        self._any_fields: list[RawField] = [(b"access-control-allow-origin", b"*"), EXPOSED]

    def response_fields(self, origin: bytes | None) -> list[RawField]:
        """Fields for an ordinary response to a request with this ``Origin`` (None when absent).

        With any origin allowed, a request without ``Origin`` (not a CORS request: browsers send it on
        every one) gets none: two fields less to send on every other response. The Fetch standard would
        send them always so that caches cannot serve a response without them to a CORS request; every
        answer here is ``no-store``, so no cache keeps one.
        """
        if self.any_origin:
            return self._any_fields if origin is not None else []
        vary = (b"vary", b"Origin")
        if origin is not None and origin in self.origins:
            return [(b"access-control-allow-origin", origin), EXPOSED, vary]
        return [vary]

    async def send_preflight(
        self, send: Send, origin: bytes, method: bytes, request_headers: bytes | None, extra: list[RawField]
    ) -> None:
        """Answer a preflight (OPTIONS with ``Access-Control-Request-Method``) with 204.

        Any method token is allowed, PROPFIND and MUX included; the requested header names are
        allowed when they form a valid token list. A disallowed origin gets 204 without CORS fields,
        which the browser treats as a refusal.
        """
        headers = list(extra)
        allowed = self.any_origin or origin in self.origins
        if allowed:
            headers.append((b"access-control-allow-origin", b"*" if self.any_origin else origin))
            if _TOKEN.fullmatch(method):
                headers.append((b"access-control-allow-methods", method))
            if request_headers and _TOKEN_LIST.fullmatch(request_headers.strip()):
                headers.append((b"access-control-allow-headers", request_headers.strip()))
            headers.append((b"access-control-max-age", PREFLIGHT_MAX_AGE_S))
        if not self.any_origin:
            headers.append((b"vary", b"Origin"))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
