"""Assembly: the route table, the middleware (which also maps errors), and ``app`` for ``uvicorn app.main:app``."""

from __future__ import annotations

import logging
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
from app.ops.observe import ObserveMiddleware, WebSocketLogFilter
from app.ops.service import service_routes
from app.settings import Settings, SettingsError, unknown_variables


def create_app(settings: Settings | None = None, *, log_sink: LogSink | None = None) -> EchoApplication:
    """Build the ASGI app: ``settings`` default to ``Settings.from_environ()`` (which raises ``SettingsError`` for
    an invalid ``ECHO_*`` variable), ``log_sink`` (each log line) to stdout."""
    settings = Settings.from_environ() if settings is None else settings
    sink = LineWriter() if log_sink is None else log_sink
    server_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(each, WebSocketLogFilter) for each in server_log.filters):
        server_log.addFilter(WebSocketLogFilter())  # the access log writes the WebSocket sessions
    metrics = Metrics() if settings.metrics else None
    echo_log = EchoLog(settings.log_redact, sink) if settings.log_echo else None
    # One budget for request content held in memory: HTTP bodies and WebSocket messages (inflated) alike.
    budget = InflightBudget(settings.max_inflight_bytes)
    echo = EchoEndpoint(
        settings,
        echo_log.write if echo_log is not None else None,
        budget,
        metrics.count_fault if metrics is not None else None,
    )
    websocket_echo = WebSocketEcho(settings.ws_idle_timeout_s, metrics, budget)
    app = EchoApplication(
        settings,
        routes=[
            # First: paths under the reserved prefix are never echoed (404/405 instead).
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
    # The router's default, not a catch-all Route: no path pattern matches `OPTIONS *`, absolute-form targets
    # (RFC 9112 §3.2.4, §3.2.2) or a path holding a newline. Never redirect.
    app.router.default = EchoByType(echo, websocket_echo, settings.prefix)
    app.router.redirect_slashes = False
    return app


class ReservedMount(Mount):
    """Starlette's ``Mount`` for the reserved prefix, with a prefix test before its pattern."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """``Match.NONE`` for a path without the prefix anywhere (it may follow a root path), else ``Mount.matches``."""
        if self.path not in scope.get("path", ""):
            return Match.NONE, {}
        return super().matches(scope)


class EchoApplication(Starlette):
    """Starlette without its two error layers (``ObserveMiddleware`` maps exceptions itself); ``scope["app"]`` is
    still set, so the router raises ``HTTPException`` for 404 and 405 rather than answering without safety fields."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Read by the server layer too (``app.server.limits``): one source of settings for both layers.
        self.settings = settings

    def build_middleware_stack(self) -> ASGIApp:
        """The user middleware around the router, outermost first (Starlette's own layers left out)."""
        # The router's own stack: `Router.__call__` only forwards to it.
        app: ASGIApp = self.router.middleware_stack
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


def _app_from_environ() -> EchoApplication:
    try:
        unknown = unknown_variables()
        application = create_app()
    except SettingsError as exc:
        # One clear line and a non-zero exit, not a traceback.
        print(f"asgi-echo: invalid setting: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if unknown:
        logging.getLogger("uvicorn.error").warning("asgi-echo ignores unknown variables: %s", ", ".join(unknown))
    return application


app = _app_from_environ()
