"""Our access log: one line per request on stdout, text or JSON; request bytes are escaped (``\\xHH``) so no input
can forge or split a line."""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import re
import time
from collections.abc import Callable

from app.echo.clock import Rfc3339Clock
from app.settings import LogFormat

LogSink = Callable[[str], None]
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\xff"\\]')


class LineWriter:
    """A log sink on a file descriptor (default stdout): the lines of one event-loop turn go out in one ``os.write``
    within that turn, at once outside a running loop, and what is pending at exit."""

    def __init__(self, fd: int = 1, max_buffer_bytes: int = 65536) -> None:
        self.fd = fd
        self.max_buffer_bytes = max_buffer_bytes
        self._lines: list[str] = []
        self._size = 0
        self._scheduled = False
        atexit.register(self.flush)

    def __call__(self, line: str) -> None:
        self._lines.append(line)
        self._size += len(line) + 1
        if self._size >= self.max_buffer_bytes:
            self.flush()
        elif not self._scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            loop.call_soon(self.flush)
            self._scheduled = True

    def flush(self) -> None:
        """Write every pending line now."""
        self._scheduled = False
        if not self._lines:
            return
        data = memoryview(("\n".join(self._lines) + "\n").encode("utf-8", "backslashreplace"))
        self._lines.clear()
        self._size = 0
        while data:
            data = data[os.write(self.fd, data) :]


def escape(text: str) -> str:
    """Escape control characters, non-ASCII, ``"`` and ``\\`` as ``\\xHH``: the result is one safe line."""
    return _UNSAFE.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class AccessLog:
    """Formats and writes one access-log record per request."""

    def __init__(self, log_format: LogFormat, sink: LogSink) -> None:
        self.json = log_format == "json"
        self.sink = sink
        self.clock = Rfc3339Clock()

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
        timestamp = self.clock.format(time.time(), 3)
        peer = f"{client[0]}:{client[1]}" if client else "-"
        if self.json:
            record = {
                "time": timestamp,
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
            f'{timestamp} {peer} "{escape(method)} {escape(target.decode("latin-1"))}" {status} '
            f"{request_bytes} {response_bytes} {duration_ms:.3f}ms {request_id}"
        )
