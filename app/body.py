"""Reading the request content with ``request.stream()``, bounded by a byte ceiling."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from starlette.requests import Request

from app.errors import ContentTooLarge


@dataclass(frozen=True, slots=True)
class Body:
    """The request content as it arrived: ``chunks`` in order (none empty), ``size_bytes`` in total."""

    chunks: tuple[bytes, ...]
    size_bytes: int

    def joined(self) -> bytes:
        """All chunks as one ``bytes`` (a copy unless there is at most one chunk)."""
        if len(self.chunks) == 1:
            return self.chunks[0]
        return b"".join(self.chunks)

    def sha256_hex(self) -> str:
        """SHA-256 of the content, lowercase hex (64 characters)."""
        digest = hashlib.sha256()
        for chunk in self.chunks:
            digest.update(chunk)
        return digest.hexdigest()


async def read_body(request: Request, declared_length: int | None, max_body_bytes: int) -> Body:
    """Read the whole request content, at most ``max_body_bytes`` bytes.

    ``declared_length`` is the request's ``Content-Length`` (None without one).

    Raises:
        ContentTooLarge: at once when ``Content-Length`` declares more than the ceiling (nothing is
            read, so no ``100 Continue`` is sent), else as soon as the bytes received cross it.
        starlette.requests.ClientDisconnect: the client went away before the content ended.
    """
    if declared_length is not None and declared_length > max_body_bytes:
        raise ContentTooLarge(max_body_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        if not chunk:
            continue
        size += len(chunk)
        if size > max_body_bytes:
            raise ContentTooLarge(max_body_bytes)
        chunks.append(chunk)
    return Body(tuple(chunks), size)
