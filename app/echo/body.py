"""Reading the request content with ``request.stream()``, bounded by a byte ceiling."""

from __future__ import annotations

import hashlib

from starlette.requests import Request

from app.errors import ContentTooLarge, ServerBusy


class InflightBudget:
    """Bytes of request content held in memory at once across this process's requests, bounded so that many
    large bodies at once cannot push the process past its memory limit."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held_bytes = 0

    def reserve(self, size_bytes: int, held: str = "request content") -> None:
        """Hold ``size_bytes`` more. Raises ``ServerBusy`` (its message naming what is ``held``) when that would
        pass ``max_bytes``."""
        if self.held_bytes + size_bytes > self.max_bytes:
            raise ServerBusy(self.max_bytes, held)
        self.held_bytes += size_bytes

    def release(self, size_bytes: int) -> None:
        self.held_bytes -= size_bytes


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


# A plain class, not a dataclass: built per request (as app.echo.head.HeadFacts).
class Body:
    """The request content as it arrived: ``chunks`` in order (none empty), ``size_bytes`` in total."""

    __slots__ = ("chunks", "size_bytes")

    def __init__(self, chunks: tuple[bytes, ...], size_bytes: int) -> None:
        self.chunks = chunks
        self.size_bytes = size_bytes

    def joined(self) -> bytes:
        """All chunks as one ``bytes`` (a copy unless there is at most one chunk)."""
        if len(self.chunks) == 1:
            return self.chunks[0]
        return b"".join(self.chunks)

    def sha256_hex(self) -> str:
        """SHA-256 of the content, lowercase hex (64 characters)."""
        if not self.chunks:
            return EMPTY_SHA256
        digest = hashlib.sha256()
        for chunk in self.chunks:
            digest.update(chunk)
        return digest.hexdigest()


async def read_body(request: Request, declared_length: int | None, max_body_bytes: int, budget: InflightBudget) -> Body:
    """Read the whole content, at most ``max_body_bytes``, reserved in ``budget`` (``declared_length`` at once, chunked
    content as it arrives); the caller releases ``Body.size_bytes`` after the response, an exception releases it.

    Raises:
        ContentTooLarge: over the ceiling; at once for a ``declared_length``, so no ``100 Continue`` is sent.
        ServerBusy: the content would pass the budget.
        starlette.requests.ClientDisconnect: the client went away before the content ended.
    """
    if declared_length is not None and declared_length > max_body_bytes:
        raise ContentTooLarge(max_body_bytes)
    reserved = declared_length or 0
    budget.reserve(reserved)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            size += len(chunk)
            if size > reserved:  # chunked content (or more than declared): reserve as it comes
                if size > max_body_bytes:  # reserved never exceeds the ceiling, so this is the only place
                    raise ContentTooLarge(max_body_bytes)
                budget.reserve(size - reserved)
                reserved = size
            chunks.append(chunk)
    except BaseException:
        budget.release(reserved)
        raise
    return Body(tuple(chunks), size)
