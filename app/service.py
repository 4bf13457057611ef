"""The server's own endpoints under the reserved prefix (default ``/_echo``): never echoed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from app.responses import SAFETY_FIELDS


async def health(request: Request) -> Response:
    """Liveness and readiness: ``200 ok`` (text/plain) while the process serves requests."""
    return PlainTextResponse("ok\n", headers=dict(SAFETY_FIELDS))
