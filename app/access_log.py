"""Our access log: one line per request on stdout, as text or as one JSON object.

uvicorn's own access log is off in the documented commands and the image, so each request logs once.
Request bytes are escaped (``\\xHH``) so no input can forge or split a line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from app.settings import LogFormat

LogSink = Callable[[str], None]
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\xff"\\]')


def stdout_sink() -> LogSink:
    """A sink writing lines to stdout through the ``asgi_echo`` logger (set up once, not propagated)."""
    logger = logging.getLogger("asgi_echo")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger.info


def escape(text: str) -> str:
    """Escape control characters, non-ASCII, ``"`` and ``\\`` as ``\\xHH``: the result is one safe line."""
    return _UNSAFE.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class AccessLog:
    """Formats and writes one access-log record per request."""

    def __init__(self, log_format: LogFormat, sink: LogSink) -> None:
        self.json = log_format == "json"
        self.sink = sink

    def write(
        self,
        *,
        client: tuple[str, int] | None,
        method: str,
        target: bytes,
        status: int,
        request_bytes: int,
        response_bytes: int,
        duration_ms: float,
        request_id: str,
    ) -> None:
        """Write the record. ``target`` is the raw request target; ``status`` 0 means no response."""
        time = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        peer = f"{client[0]}:{client[1]}" if client else "-"
        if self.json:
            record = {
                "time": time,
                "client": peer,
                "method": method,
                "target": target.decode("latin-1"),
                "status": status,
                "request_bytes": request_bytes,
                "response_bytes": response_bytes,
                "duration_ms": round(duration_ms, 3),
                "request_id": request_id,
            }
            self.sink(json.dumps(record))  # ensure_ascii: every control character arrives escaped
            return
        self.sink(
            f'{time} {peer} "{escape(method)} {escape(target.decode("latin-1"))}" {status} '
            f"{request_bytes} {response_bytes} {duration_ms:.3f}ms {request_id}"
        )
