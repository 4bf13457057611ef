"""Parsing urlencoded and ``multipart/form-data`` content in memory; file parts are hashed and counted, never kept
or spooled to disk (so it works on a read-only filesystem)."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

# Without a handler each malformed part prints a warning on stderr, a line per hostile request; form_error has it.
logging.getLogger("python_multipart").addHandler(logging.NullHandler())

#: Past this many fields or parts the form is reported, not parsed: it bounds what a hostile form costs.
MAX_FORM_FIELDS = 10_000
TOO_MANY_FIELDS = f"more than {MAX_FORM_FIELDS} fields or parts: not parsed"
#: Percent-decoding goes this many bytes at a time: the standard library's splits a whole value at every ``%``.
DECODE_WINDOW_BYTES = 64 * 1024
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def decode_pairs(data: bytes, max_pairs: int | None = None) -> list[tuple[str, str]]:
    """Split ``a=1&b=&c`` into decoded pairs in order, blanks kept, ``+`` as space, bytes that are not UTF-8 as
    U+FFFD (WHATWG URL ``application/x-www-form-urlencoded``). Raises ``ValueError`` past ``max_pairs`` pairs."""
    if max_pairs is None and data.isascii() and b"%" not in data and b"+" not in data:
        # Nothing to decode (the common query): split as parse_qsl does, empty pieces dropped.
        pieces = (piece.partition("=") for piece in data.decode("ascii").split("&") if piece)
        return [(name, value) for name, _, value in pieces]
    if max_pairs is not None and data.count(b"&") >= max_pairs:
        raise ValueError(f"more than {max_pairs} pairs")
    pairs: list[tuple[str, str]] = []
    for piece in data.split(b"&"):
        if piece:
            name, _, value = piece.partition(b"=")
            pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


def unquote_plus(data: bytes) -> str:
    """``+`` as space and ``%XX`` as its octet, then UTF-8 with U+FFFD for what is not; an invalid escape stays as
    sent. Decodes ``DECODE_WINDOW_BYTES`` at a time, so its memory is a small multiple of ``data``: a 10 MiB value of
    ``%01`` took 770 MiB through ``urllib.parse.unquote``."""
    data = data.replace(b"+", b" ")
    if b"%" not in data:
        return data.decode("utf-8", "replace")
    decoded = bytearray()
    start = 0
    while start < len(data):
        end = min(start + DECODE_WINDOW_BYTES, len(data))
        if end < len(data):
            cut = data.rfind(b"%", end - 2, end)  # an escape is never split between two windows
            if cut != -1:
                end = cut
        decoded += unquote_to_bytes(data[start:end])
        start = end
    return decoded.decode("utf-8", "replace")


def group_pairs(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Group pairs as name → list of values, names in order of first appearance."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def parse_form(media_type: str, params: dict[str, str], content: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """``({"fields": {name: [values]}, "files": [file facts]}, None)``, ``(None, reason)`` when malformed, or
    ``(None, None)`` when ``media_type`` (lowercase, ``params`` apart) is not a form. Never raises."""
    if media_type == URLENCODED:
        try:
            return {"fields": group_pairs(decode_pairs(content, MAX_FORM_FIELDS)), "files": []}, None
        except ValueError:
            return None, TOO_MANY_FIELDS
    if media_type != MULTIPART:
        return None, None
    boundary = params.get("boundary")
    if not boundary:
        return None, "multipart/form-data without a boundary parameter"
    collector = _MultipartCollector()
    try:
        parser = MultipartParser(boundary.encode("latin-1"), collector.callbacks())
        parser.write(content)
        parser.finalize()
    except _TooManyParts:
        return None, TOO_MANY_FIELDS
    except (FormParserError, ValueError) as exc:
        return None, f"malformed multipart content: {exc}"
    if not collector.ended:
        return None, "malformed multipart content: no closing boundary"
    return {"fields": group_pairs(collector.fields), "files": collector.files}, None


_FILENAME = re.compile(rb'(?:^|;)[ \t]*filename[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^; \t]*))', re.IGNORECASE)


def filename_as_sent(content_disposition: bytes) -> bytes:
    """The ``filename`` parameter as sent, unquoted, ``\\"`` read as ``"`` (RFC 7578 §4.2), a Windows path kept
    (python-multipart would cut it to its last part)."""
    match = _FILENAME.search(content_disposition)
    if match is None:
        return b""
    if match.group(1) is not None:
        return match.group(1).replace(b'\\"', b'"')  # clients escape only quotes; a Windows path keeps its \\
    return match.group(2)


class _TooManyParts(ValueError):
    pass


@dataclass
class _Part:
    header_name: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    size: int = 0
    digest: Any = None


class _MultipartCollector:
    def __init__(self) -> None:
        self.fields: list[tuple[str, str]] = []
        self.files: list[dict[str, Any]] = []
        self.ended = False
        self._part = _Part()
        self._is_file = False
        self._parts = 0

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda data, start, end: self._part.header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._part.header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._end_part,
            "on_end": self._end,
        }

    def _begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_FORM_FIELDS:
            raise _TooManyParts
        self._part = _Part()

    def _header_end(self) -> None:
        part = self._part
        part.headers[bytes(part.header_name).strip().lower()] = bytes(part.header_value).strip()
        part.header_name.clear()
        part.header_value.clear()

    def _headers_finished(self) -> None:
        _, disposition = parse_options_header(self._part.headers.get(b"content-disposition", b""))
        self._is_file = b"filename" in disposition
        if self._is_file:
            self._part.digest = hashlib.sha256()

    def _data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        part.size += end - start
        if self._is_file:
            part.digest.update(data[start:end])
        else:
            part.data.extend(data[start:end])

    def _end_part(self) -> None:
        part = self._part
        _, disposition = parse_options_header(part.headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if self._is_file:
            content_type = part.headers.get(b"content-type")
            raw_disposition = part.headers.get(b"content-disposition", b"")
            self.files.append(
                {
                    "name": name,
                    "filename": filename_as_sent(raw_disposition).decode("utf-8", "replace"),
                    "content_type": None if content_type is None else content_type.decode("latin-1"),
                    "size": part.size,
                    "sha256": part.digest.hexdigest(),
                }
            )
        else:
            self.fields.append((name, part.data.decode("utf-8", "replace")))

    def _end(self) -> None:
        self.ended = True
