"""Reading the request content with ``request.stream()``, bounded by a byte ceiling."""

from __future__ import annotations

import hashlib

from starlette.requests import Request

from app.errors import ContentTooLarge, ServerBusy


class InflightBudget:
    """Bytes of request content held in memory at once, across every request of this process.

    A request reserves its bytes before holding them and releases them once its response is sent;
    a reservation past ``max_bytes`` raises ``ServerBusy`` (503), so many large bodies at once cannot
    push the process past its memory limit.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held_bytes = 0

    def reserve(self, size_bytes: int) -> None:
        """Hold ``size_bytes`` more. Raises ``ServerBusy`` when that would pass ``max_bytes``."""
        if self.held_bytes + size_bytes > self.max_bytes:
            raise ServerBusy(self.max_bytes)
        self.held_bytes += size_bytes

    def release(self, size_bytes: int) -> None:
        """Give back ``size_bytes`` reserved earlier."""
        self.held_bytes -= size_bytes


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


# Built per request: a plain class, not a dataclass, for the reason given at app.head.HeadFacts.
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
    """Read the whole request content, at most ``max_body_bytes`` bytes, reserved in ``budget``.

    ``declared_length`` is the request's ``Content-Length`` (None without one); it is reserved at
    once, chunked content as it arrives. On success the caller releases ``Body.size_bytes`` from
    ``budget`` after the response; on an exception the reservation is already released.

    Raises:
        ContentTooLarge: at once when ``Content-Length`` declares more than the ceiling (nothing is
            read, so no ``100 Continue`` is sent), else as soon as the bytes received cross it.
        ServerBusy: the content would pass the budget (503), checked before reading what is declared.
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
