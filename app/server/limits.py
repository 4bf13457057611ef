"""The protocol's head and time limits, from the ``Settings`` of the app uvicorn loaded (uvicorn builds the
protocol, so they are found through the app); another ASGI app gets those of ``Settings.from_environ()``."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from app.settings import Settings


@dataclass(frozen=True, slots=True)
class ProtocolLimits:
    """The head and time limits the protocol enforces (bytes and seconds)."""

    max_header_bytes: int
    max_target_bytes: int
    header_timeout_s: float
    body_timeout_s: float
    write_timeout_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> ProtocolLimits:
        return cls(
            max_header_bytes=settings.max_header_bytes,
            max_target_bytes=settings.max_target_bytes,
            header_timeout_s=settings.header_timeout_s,
            body_timeout_s=settings.body_timeout_s,
            write_timeout_s=settings.write_timeout_s,
        )


def settings_of(app: object) -> Settings | None:
    """The ``Settings`` of ``app`` or of the app it wraps (``.app``, through uvicorn's middleware), or None."""
    seen = 0
    while app is not None and seen < 16:  # wrappers are few; a cycle of .app must not loop forever
        settings = getattr(app, "settings", None)
        if isinstance(settings, Settings):
            return settings
        app = getattr(app, "app", None)
        seen += 1
    return None


@functools.cache
def limits_for(app: object) -> ProtocolLimits:
    """The limits for connections serving ``app`` (the loaded app of uvicorn's config), found once per app."""
    settings = settings_of(app)
    return ProtocolLimits.from_settings(settings if settings is not None else Settings.from_environ())
