"""Assembly: the route table, the error mapping, and ``app`` for ``uvicorn app.main:app``."""

from __future__ import annotations

import sys

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Route

from app.endpoints import EchoEndpoint
from app.errors import EchoError, echo_error_handler, http_exception_handler, server_error_handler
from app.service import health
from app.settings import Settings, SettingsError


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the ASGI application; ``settings`` defaults to ``Settings.from_environ()``.

    Raises:
        SettingsError: an ``ECHO_*`` variable is invalid (only when ``settings`` is None).
    """
    settings = Settings.from_environ() if settings is None else settings
    echo = EchoEndpoint(settings)
    app = Starlette(
        routes=[
            # The reserved prefix is mounted first: its paths are never echoed (404/405 instead).
            Mount(settings.prefix, routes=[Route("/health", health, methods=["GET"], name="health")]),
            Route("/{target:path}", echo, name="echo"),
        ],
        exception_handlers={
            EchoError: echo_error_handler,
            HTTPException: http_exception_handler,
            Exception: server_error_handler,
        },
    )
    # `OPTIONS *` and absolute-form targets (RFC 9112 §3.2.4, §3.2.2) match no path route: echo them too.
    app.router.default = echo
    return app


def _app_from_environ() -> Starlette:
    try:
        return create_app()
    except SettingsError as exc:
        # One clear line and a non-zero exit, not a traceback.
        print(f"asgi-echo: invalid setting: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


app = _app_from_environ()
