"""The load generator's ceiling: a server so cheap per request that wrk, not the server, sets the pace.

An asyncio protocol on uvloop with httptools' C parser, no ASGI and no app, answers every complete request
with the same ``200 ok`` (Content-Length framing, kept alive), one write per read. A trivial ASGI app under
uvicorn is not enough: uvicorn's own work per request is most of what the floor costs, so that "ceiling" sat
within 10% of the floor while wrk still had room. Run as ``python bench/ceiling.py --port PORT`` (loopback).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import cast

import httptools
import uvloop

RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"


class OkProtocol(asyncio.Protocol):
    """One connection: requests parsed by httptools, each answered ``ok``; bad bytes close it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.complete = 0  # requests completed in the current read

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's TCPTransport does not subclass it

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()
            return
        if self.complete:
            self.transport.write(RESPONSE * self.complete)
            self.complete = 0

    def on_message_complete(self) -> None:
        """httptools' callback: one more request to answer."""
        self.complete += 1


async def serve(port: int) -> None:
    """Listen on 127.0.0.1:``port`` until the process is ended (the benchmark sends SIGTERM)."""
    server = await asyncio.get_running_loop().create_server(OkProtocol, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    """``python bench/ceiling.py --port PORT``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    uvloop.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
