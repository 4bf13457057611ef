"""Large bodies over raw loopback sockets, with the server's resident memory polled from /proc.

The client is a non-blocking socket loop that sends from one preallocated buffer and counts what it
receives without keeping it, so it moves gigabytes per second and is not what is measured.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
SEND_BLOCK_BYTES = 1 * MIB
_BLOCK = memoryview(b"a" * SEND_BLOCK_BYTES)


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of ``pid`` from /proc/PID/status (``VmRSS`` now, ``VmHWM`` peak), in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * KIB
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


class RssPeak:
    """Tracks the peak resident memory of ``pid`` while the ``with`` block runs.

    Polls ``VmRSS`` every ``interval_s``; when /proc/PID/clear_refs can be written (as root), the
    kernel's own high-water mark ``VmHWM`` is reset first and taken into account, so no short peak
    between two polls is missed.
    """

    def __init__(self, pid: int, interval_s: float = 0.002) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.baseline_bytes = 0
        self.peak_bytes = 0
        self._hwm_reset = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> RssPeak:
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as clear_refs:
                clear_refs.write("5")  # 5: reset the peak RSS (VmHWM) to the current RSS
            self._hwm_reset = True
        except OSError:
            self._hwm_reset = False
        self.baseline_bytes = self.peak_bytes = rss_bytes(self.pid)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, RuntimeError):
                self.peak_bytes = max(self.peak_bytes, rss_bytes(self.pid))
            time.sleep(self.interval_s)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(OSError, RuntimeError):
            self.peak_bytes = max(self.peak_bytes, rss_bytes(self.pid))
            if self._hwm_reset:
                self.peak_bytes = max(self.peak_bytes, rss_bytes(self.pid, "VmHWM"))

    @property
    def growth_bytes(self) -> int:
        """Peak minus the resident memory when the block started."""
        return self.peak_bytes - self.baseline_bytes


@dataclass
class Exchange:
    """What one request/response exchange did; times are ``time.perf_counter()`` seconds."""

    status: int = 0
    sent_content_bytes: int = 0
    received_content_bytes: int = 0
    started_s: float = 0.0
    finished_s: float = 0.0
    crossed_s: float | None = None  # when the content sent first exceeded ``cross_at_bytes``
    answered_s: float | None = None  # when the first byte of the response arrived
    sent_before_answer_bytes: int | None = None

    @property
    def elapsed_s(self) -> float:
        """From the first byte sent to the last byte received."""
        return self.finished_s - self.started_s


def exchange(
    port: int,
    target: str,
    content_bytes: int,
    *,
    chunked: bool = False,
    stop_sending_on_answer: bool = False,
    cross_at_bytes: int | None = None,
    timeout_s: float = 120.0,
) -> Exchange:
    """POST ``content_bytes`` to ``target`` on 127.0.0.1:``port`` and read the whole response.

    Sends and receives at once, so a streaming echo is measured as a round trip. With ``chunked`` the
    content goes without ``Content-Length`` (RFC 9112 §7.1), in 1 MiB chunks. With
    ``stop_sending_on_answer`` the upload stops when the response starts (the 413 case).

    Raises:
        TimeoutError: the exchange did not end within ``timeout_s``.
        ConnectionError: the server closed before a complete response.
    """
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {content_bytes}"
    head = f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/octet-stream\r\n"
    pending = memoryview((head + framing + "\r\n\r\n").encode("ascii"))
    head_bytes = len(pending)
    total_sent = 0
    result = Exchange()
    response = _ResponseReader()
    left = content_bytes
    sending = True
    chunk_end_pending = False
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    result.started_s = time.perf_counter()
    deadline = result.started_s + timeout_s
    try:
        while not response.complete:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no complete response to {target} within {timeout_s} s")
            for _key, events in selector.select(timeout=0.5):
                if events & selectors.EVENT_READ:
                    try:
                        data = sock.recv(4 * MIB)
                    except ConnectionResetError:
                        data = b""
                    if result.answered_s is None and data:
                        result.answered_s = time.perf_counter()
                        result.sent_before_answer_bytes = result.sent_content_bytes
                        if stop_sending_on_answer and sending:
                            sending = False
                            selector.modify(sock, selectors.EVENT_READ)
                    if not data:
                        response.close()
                        if not response.complete:
                            raise ConnectionError(f"server closed: {response.describe()}")
                        break
                    response.feed(data)
                if events & selectors.EVENT_WRITE and sending:
                    if not pending:
                        pending, left, chunk_end_pending = _next_block(left, chunked, chunk_end_pending)
                    try:
                        sent = sock.send(pending)
                    except (BrokenPipeError, ConnectionResetError):
                        sent, sending = 0, False  # the server stopped reading: wait for its answer
                        selector.modify(sock, selectors.EVENT_READ)
                    pending = pending[sent:]
                    total_sent += sent
                    # Chunk framing counts as content here: a few bytes per MiB.
                    result.sent_content_bytes = min(content_bytes, max(0, total_sent - head_bytes))
                    if (
                        cross_at_bytes is not None
                        and result.crossed_s is None
                        and result.sent_content_bytes > cross_at_bytes
                    ):
                        result.crossed_s = time.perf_counter()
                    if not pending and left == 0 and not chunk_end_pending:
                        sending = False
                        selector.modify(sock, selectors.EVENT_READ)
    finally:
        selector.close()
        sock.close()
    result.finished_s = time.perf_counter()
    result.status = response.status
    result.received_content_bytes = response.content_bytes
    return result


def _next_block(left: int, chunked: bool, chunk_end_pending: bool) -> tuple[memoryview, int, bool]:
    """The next bytes to send: a content block (framed when chunked), then the last-chunk when chunked."""
    if left == 0:
        return memoryview(b"0\r\n\r\n"), 0, False
    size = min(left, SEND_BLOCK_BYTES)
    block = _BLOCK[:size]
    if not chunked:
        return block, left - size, False
    framed = b"%x\r\n" % size + bytes(block) + b"\r\n"
    return memoryview(framed), left - size, left - size == 0


class _ResponseReader:
    """Counts a response's content without keeping it: ``Content-Length``, chunked, or to the close."""

    def __init__(self) -> None:
        self.head = b""
        self.status = 0
        self.content_bytes = 0
        self.complete = False
        self._length: int | None = None
        self._chunked = False
        self._tail = b""
        self._closed = False

    def feed(self, data: bytes) -> None:
        """Take the next bytes received."""
        if not self.status:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            data = self.head[end + 4 :]
            self.head = self.head[:end]
            self.status = int(self.head.split(b" ", 2)[1])
            for line in self.head.lower().split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name == b"content-length":
                    self._length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value:
                    self._chunked = True
        self.content_bytes += len(data)
        if self._length is not None:
            self.complete = self.content_bytes >= self._length
        elif self._chunked:
            # Framing counts as content here (a few bytes per chunk); the last-chunk ends it.
            self._tail = (self._tail + data)[-5:]
            self.complete = self._tail == b"0\r\n\r\n"

    def close(self) -> None:
        """The server closed the connection: a response without length ends here."""
        self._closed = True
        if self.status and self._length is None and not self._chunked:
            self.complete = True

    def describe(self) -> str:
        """What was received, for an error message."""
        return f"status {self.status or 'none'}, {self.content_bytes} content bytes, head {self.head[:200]!r}"
