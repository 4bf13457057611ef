"""An asyncio transport stand-in for driving the protocol in process (tests and ``bench.capture_cost``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class FakeTransport:
    """Just enough of an asyncio transport for ``EchoHttpToolsProtocol``: what it writes is dropped."""

    def __init__(self) -> None:
        self.closing = False

    def write(self, data: bytes) -> None:
        pass

    def writelines(self, parts: Iterable[bytes]) -> None:
        pass

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass
