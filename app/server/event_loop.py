"""uvloop with the TLS phases of a connection bounded by the echo's own timeouts (``UVICORN_LOOP`` names it).

uvicorn passes its TLS context to ``loop.create_server`` and no timeout for the handshake or the TLS close, so
uvloop's defaults apply: 60 s for a handshake (a client that never sends its ClientHello held the connection that
long, before the head timeout could start) and 30 s for the close. Here, for a server with TLS:

- the handshake gets ``ECHO_HEADER_TIMEOUT_S`` from the accept: the protocol's head timer counts from the accept
  too (``app.server.protocol``), so a request head is complete within that time of the accept, handshake included;
- the TLS close (flushing what is buffered, sending close_notify and waiting for the client's) gets
  ``ECHO_WRITE_TIMEOUT_S``, the bound on output that makes no progress.

The values come from ``Settings.from_environ()`` when the server starts: the loop is made before uvicorn loads
the app, so an app built with other ``Settings`` in process still gets the environment's bounds here. At shutdown
the protocols cut a TLS close sooner (``cut_tls_close_later``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvloop

from app.settings import Settings

#: How long a TLS connection closed by the server's shutdown waits for the client's close_notify before it is cut.
SHUTDOWN_TLS_CLOSE_S = 1.0


class TlsBoundedLoop(uvloop.Loop):
    """``uvloop.Loop`` whose TLS servers time out handshakes and closes (see module); all else is uvloop's."""

    # Typed as uvloop's stubs type them (its server is no asyncio.Server, which AbstractEventLoop names).
    async def create_server(self, *args: Any, **kwargs: Any) -> asyncio.AbstractServer:  # type: ignore[override]
        return await super().create_server(*args, **tls_bounds(kwargs))

    async def create_unix_server(self, *args: Any, **kwargs: Any) -> asyncio.AbstractServer:  # type: ignore[override]
        return await super().create_unix_server(*args, **tls_bounds(kwargs))


def tls_bounds(kwargs: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """``kwargs`` of ``create_server`` with the handshake and close timeouts (seconds) filled in when ``ssl`` is
    given and they are not; ``settings`` defaults to ``Settings.from_environ()``."""
    if kwargs.get("ssl") is None:
        return kwargs
    settings = Settings.from_environ() if settings is None else settings
    bounded = dict(kwargs)
    if bounded.get("ssl_handshake_timeout") is None:
        bounded["ssl_handshake_timeout"] = settings.header_timeout_s
    if bounded.get("ssl_shutdown_timeout") is None:
        bounded["ssl_shutdown_timeout"] = settings.write_timeout_s
    return bounded


def cut_tls_close_later(loop: asyncio.AbstractEventLoop, transport: asyncio.Transport) -> asyncio.TimerHandle:
    """Abort ``transport``, a TLS connection the shutdown is closing, ``SHUTDOWN_TLS_CLOSE_S`` from now: a client
    that keeps its connection idle (any keep-alive pool) reads nothing, so it never answers close_notify, and
    uvicorn would wait its whole graceful timeout and log an ERROR. Cancel the handle when the connection is lost."""
    return loop.call_later(SHUTDOWN_TLS_CLOSE_S, transport.abort)
