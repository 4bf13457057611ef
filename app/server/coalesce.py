"""A response's head goes out in one write with the start of its content.

uvicorn's ``RequestResponseCycle`` writes the head when the app sends ``http.response.start`` and each
content part when it sends ``http.response.body``. With ``TCP_NODELAY`` every write is its own segment,
and every segment can wake the client: two writes per response cost the server 1 to 6 µs of CPU more than
one (POST 16 KiB under wrk on loopback, 2 cores). ``CoalescingWriter`` stands in for the transport in each
cycle and holds a small write until the next one, which then carries it in one ``writelines`` (a single
``writev`` on uvloop; the standard loop joins the parts), or until the event loop's next iteration at the
latest. So an app that sends its start and first content in one step, as the echo does, answers with one
write; one that waits in between (a delay, stream mode) has its head sent as soon as it waits, and so has
a ``100 Continue``. The order of bytes never changes.
"""

from __future__ import annotations

import asyncio

#: Writes up to this size are held for the next one (a response head is a few hundred bytes); larger
#: ones go out at once, so flow control sees big content as it is written.
HOLD_MAX_BYTES = 16 * 1024


class CoalescingWriter:
    """The ``write``/``close``/``is_closing`` of one connection's transport, as a response cycle uses them.

    A write of up to ``HOLD_MAX_BYTES`` is held when nothing is; the next write sends both with one
    ``transport.writelines``; ``flush`` (scheduled with ``loop.call_soon`` when a write is held, and called
    before the connection answers on its own or closes) sends what is still held. At most one write is
    held at a time. Raises nothing of its own: errors are the transport's.
    """

    # uvloop's transports do not subclass asyncio's: the annotation names the interface used, it is not checked.
    def __init__(self, transport: asyncio.WriteTransport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        self._held: bytes | None = None
        self._flush_scheduled = False

    def write(self, data: bytes) -> None:
        """Write ``data`` after whatever is held, or hold it when it is small and nothing is."""
        held = self._held
        if held is not None:
            self._held = None
            self.transport.writelines((held, data))
        elif len(data) <= HOLD_MAX_BYTES:
            self._held = data
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self.loop.call_soon(self._scheduled_flush)
        else:
            self.transport.write(data)

    def flush(self) -> None:
        """Send the held write, if any, unless the transport is closing (then it is dropped with it)."""
        held = self._held
        if held is not None:
            self._held = None
            if not self.transport.is_closing():
                self.transport.write(held)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self.flush()

    def is_closing(self) -> bool:
        """Whether the transport is closing or closed."""
        return self.transport.is_closing()

    def close(self) -> None:
        """Send what is held, then close the transport (asyncio sends buffered bytes before closing)."""
        self.flush()
        self.transport.close()
