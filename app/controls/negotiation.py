"""Choosing the echo format: ``echo_format`` wins, else ``Accept`` with q-values (RFC 9110 §12.5.1)."""

from __future__ import annotations

import functools
import re
from typing import Literal

from app.errors import InvalidControl

EchoFormat = Literal["text", "json", "raw"]
FORMATS: tuple[EchoFormat, ...] = ("text", "json", "raw")

# RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE = re.compile(r"(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)")
_CANDIDATES = {"json": ("application", "json"), "text": ("text", "plain")}


class _Unparsable(ValueError):
    pass


def format_from_control(value: str) -> EchoFormat:
    """Validate an ``echo_format`` value: ``text``, ``json`` or ``raw``; raises ``InvalidControl`` for any other."""
    for echo_format in FORMATS:
        if value == echo_format:
            return echo_format
    raise InvalidControl(f"echo_format={value!r} is invalid: accepted values are {', '.join(FORMATS)}")


MAX_CACHED_ACCEPT_CHARS = 256


def format_from_accept(accept: str | None) -> EchoFormat:
    """The echo format for an ``Accept`` value. Only values up to ``MAX_CACHED_ACCEPT_CHARS`` are cached, so clients
    cannot fill memory with long distinct values."""
    if accept is None:
        return "text"
    if len(accept) > MAX_CACHED_ACCEPT_CHARS:
        return _format_from_accept(accept)
    return _cached_format_from_accept(accept)


def _format_from_accept(accept: str | None) -> EchoFormat:
    """``json`` when ``Accept`` ranks ``application/json`` strictly above ``text/plain``, each taking the q of its
    most specific matching range; ties, no field, ``*/*`` and a field that does not parse give ``text``."""
    if accept is None:
        return "text"
    try:
        ranges = _parse_accept(accept)
    except _Unparsable:
        return "text"
    json_q = _quality(ranges, _CANDIDATES["json"])
    text_q = _quality(ranges, _CANDIDATES["text"])
    return "json" if json_q > text_q else "text"


def _parse_accept(accept: str) -> list[tuple[str, str, float]]:
    ranges: list[tuple[str, str, float]] = []
    for element in accept.split(","):
        media, *params = element.split(";")
        media = media.strip().lower()
        if not media:
            continue  # RFC 9110 §5.6.1: empty list elements are ignored
        kind, slash, subtype = media.partition("/")
        if not slash or not kind or not subtype:
            raise _Unparsable(media)
        quality = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                if not _QVALUE.fullmatch(value):
                    raise _Unparsable(value)
                quality = float(value)
        ranges.append((kind, subtype, quality))
    return ranges


def _quality(ranges: list[tuple[str, str, float]], candidate: tuple[str, str]) -> float:
    best_specificity, best_q = -1, 0.0
    for kind, subtype, quality in ranges:
        if kind == candidate[0] and subtype == candidate[1]:
            specificity = 2
        elif kind == candidate[0] and subtype == "*":
            specificity = 1
        elif kind == "*" and subtype == "*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, best_q = specificity, quality
    return best_q


_cached_format_from_accept = functools.lru_cache(maxsize=512)(_format_from_accept)
