"""Assembly: the route table, the middleware (which also maps errors), and ``app`` for ``uvicorn app.main:app``."""

from __future__ import annotations

import sys
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Match, Mount, Router
from starlette.types import ASGIApp, Scope

from app.echo.body import InflightBudget
from app.echo.endpoints import EchoEndpoint
from app.echo.fallback import EchoByType
from app.echo.websocket import WebSocketEcho
from app.ops.access_log import AccessLog, LineWriter, LogSink
from app.ops.cors import Cors
from app.ops.echo_log import EchoLog
from app.ops.metrics import Metrics
from app.ops.observe import ObserveMiddleware
from app.ops.service import service_routes
from app.settings import Settings, SettingsError


def create_app(settings: Settings | None = None, *, log_sink: LogSink | None = None) -> EchoApplication:
    """Build the ASGI application.

    ``settings`` defaults to ``Settings.from_environ()``; ``log_sink`` receives each log line (default:
    a ``LineWriter`` on stdout).

    Raises:
        SettingsError: an ``ECHO_*`` variable is invalid (only when ``settings`` is None).
    """
    settings = Settings.from_environ() if settings is None else settings
    sink = LineWriter() if log_sink is None else log_sink
    metrics = Metrics() if settings.metrics else None
    echo_log = EchoLog(settings.log_redact, sink) if settings.log_echo else None
    # One budget for request content held in memory: HTTP bodies and WebSocket messages (inflated) alike.
    budget = InflightBudget(settings.max_inflight_bytes)
    echo = EchoEndpoint(settings, echo_log.write if echo_log is not None else None, budget)
    websocket_echo = WebSocketEcho(settings.ws_idle_timeout_s, metrics, budget)
    app = EchoApplication(
        settings,
        routes=[
            # The reserved prefix is mounted first: its paths are never echoed (404/405 instead). Every
            # other request goes to the router's default below: the echo.
            ReservedMount(settings.prefix, app=Router(service_routes(settings, metrics), redirect_slashes=False)),
        ],
        middleware=[
            Middleware(
                ObserveMiddleware,
                prefix=settings.prefix,
                cors=Cors(settings.cors_origins),
                metrics=metrics,
                access_log=AccessLog(settings.log_format, sink) if settings.access_log else None,
            )
        ],
    )
    # The echo is the router's default rather than a catch-all Route: that also takes `OPTIONS *` and
    # absolute-form targets (RFC 9112 §3.2.4, §3.2.2) and paths holding a newline, which no path pattern
    # matches (`.` stops there), and it saves a pattern match per request (~2 µs). Never redirect.
    app.router.default = EchoByType(echo, websocket_echo, settings.prefix)
    app.router.redirect_slashes = False
    return app


class ReservedMount(Mount):
    """Starlette's ``Mount`` for the reserved prefix, with a prefix test before its pattern.

    Nearly every request is for the echo, not under the prefix: a path that does not even contain the
    prefix (anywhere: ``scope["path"]`` may start with a root path) is turned away at a fraction of the
    pattern match's cost.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """``Match.NONE`` at once for a path without the prefix in it, else ``Mount.matches``."""
        if self.path not in scope.get("path", ""):
            return Match.NONE, {}
        return super().matches(scope)


class EchoApplication(Starlette):
    """Starlette with its routing and our middleware only.

    Starlette wraps every app in two error layers of its own (``ServerErrorMiddleware`` and
    ``ExceptionMiddleware``), each a call per ASGI message; ``ObserveMiddleware`` maps exceptions to plain
    answers itself, so those layers are left out. ``scope["app"]`` is still set, so the router raises
    ``HTTPException`` for 404 and 405 instead of answering without our safety fields.
    """

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Read by the server layer too (``app.server.limits``): one source of settings for both layers.
        self.settings = settings

    def build_middleware_stack(self) -> ASGIApp:
        """The user middleware around the router, outermost first (Starlette's own layers left out)."""
        # The router's own stack (its `app`, as it has no middleware): `Router.__call__` only forwards to it.
        app: ASGIApp = self.router.middleware_stack
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


def _app_from_environ() -> EchoApplication:
    try:
        return create_app()
    except SettingsError as exc:
        # One clear line and a non-zero exit, not a traceback.
        print(f"asgi-echo: invalid setting: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


app = _app_from_environ()
