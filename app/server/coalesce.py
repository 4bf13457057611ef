"""A response's head goes out in one write with the start of its content, when the app sends both in one step: a
small write waits for the next one or the loop's next iteration, no longer. The order of bytes never changes."""

from __future__ import annotations

import asyncio

#: Larger writes go out at once, so flow control sees big content as it is written.
HOLD_MAX_BYTES = 16 * 1024


class CoalescingWriter:
    """The ``write``/``close``/``is_closing`` of one connection's transport, as a response cycle uses them, holding
    at most one small write; the protocol flushes it before answering on its own. Errors are the transport's."""

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
        return self.transport.is_closing()

    def close(self) -> None:
        """Send what is held, then close the transport (asyncio sends buffered bytes before closing)."""
        self.flush()
        self.transport.close()
