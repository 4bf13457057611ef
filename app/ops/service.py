"""The server's own endpoints under the reserved prefix (default ``/_echo``): never echoed."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from app.echo.render import dump_json
from app.ops.metrics import Metrics
from app.settings import Settings


async def health(request: Request) -> Response:
    """Liveness and readiness: ``200 ok`` (text/plain) while the process serves requests."""
    return PlainTextResponse("ok\n")


def service_routes(settings: Settings, metrics: Metrics | None) -> list[BaseRoute]:
    """Routes mounted under ``settings.prefix``: health, config, and metrics unless turned off."""
    config_document = dump_json(settings.public_document())

    async def config(request: Request) -> Response:
        """The effective settings as JSON (nothing secret is in them)."""
        return Response(config_document, media_type="application/json")

    routes: list[BaseRoute] = [
        Route("/health", health, methods=["GET"], name="health"),
        Route("/config", config, methods=["GET"], name="config"),
    ]
    if metrics is not None:

        async def exposition(request: Request) -> Response:
            """Prometheus text exposition of this process's metrics."""
            return Response(metrics.exposition(), headers={"content-type": CONTENT_TYPE_LATEST})

        routes.append(Route("/metrics", exposition, methods=["GET"], name="metrics"))
    return routes
