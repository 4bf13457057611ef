"""``ECHO_WRITE_TIMEOUT_S`` below ASGI: a connection whose output makes no progress for that long is dropped.

The clock runs only while the transport is paused for writing (its buffer above the high-water mark), so an
idle connection, a delay or a stream that waits for its client is never a stall.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from app.server.refusal import peer_text


class WriteStallClock:
    """``start`` when writing pauses, ``stop`` when it resumes or the connection is lost; ``on_stall`` runs
    when it runs out first."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout_s: float, on_stall: Callable[[], None]) -> None:
        self.loop = loop
        self.timeout_s = timeout_s
        self.on_stall = on_stall
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self._timer is None:
            self._timer = self.loop.call_later(self.timeout_s, self._run_out)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _run_out(self) -> None:
        self._timer = None
        self.on_stall()


def abandon(
    transport: asyncio.Transport, logger: logging.Logger, client: tuple[str, int] | None, timeout_s: float
) -> None:
    """Drop a stalled connection at once (``abort``: its buffer will never drain); the app sees a disconnect
    and releases what it holds."""
    logger.info(
        "Closed the connection of %s: no write progress for %g s (ECHO_WRITE_TIMEOUT_S)", peer_text(client), timeout_s
    )
    transport.abort()
