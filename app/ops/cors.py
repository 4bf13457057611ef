"""CORS after the Fetch standard's CORS protocol (§3.2); not Starlette's CORSMiddleware, which refuses preflights
for method tokens it does not list (PROPFIND, MUX)."""

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
        """Fields for an ordinary response to a request with this ``Origin`` (None when absent). With any origin
        allowed, a request without ``Origin`` gets none: Fetch would send them so that no cache serves a CORS request
        a response without them, but every answer here is ``no-store``."""
        if self.any_origin:
            return self._any_fields if origin is not None else []
        vary = (b"vary", b"Origin")
        if origin is not None and origin in self.origins:
            return [(b"access-control-allow-origin", origin), EXPOSED, vary]
        return [vary]

    async def send_preflight(
        self, send: Send, origin: bytes, method: bytes, request_headers: bytes | None, extra: list[RawField]
    ) -> None:
        """Answer a preflight with 204, allowing any method token and a valid token list of fields; a disallowed
        origin gets no CORS fields, which the browser takes as a refusal."""
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
