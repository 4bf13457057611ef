"""The ``media-type`` grammar of RFC 9110 §8.3.1, checked in linear time: a regular expression for it backtracks
exponentially on whitespace around empty parameters (``a/b ; ; ; !``)."""

from __future__ import annotations

import string

#: ``tchar`` of RFC 9110 §5.6.2.
TOKEN_CHARACTERS = frozenset("!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters)
_OPTIONAL_WHITESPACE = frozenset(" \t")
#: ``qdtext`` of RFC 9110 §5.6.4: HTAB, SP, %x21, %x23-5B, %x5D-7E and obs-text.
_QUOTED_TEXT = frozenset("\t !").union(map(chr, [*range(0x23, 0x5C), *range(0x5D, 0x7F), *range(0x80, 0x100)]))
#: What may follow a backslash in a ``quoted-pair``: HTAB, SP, VCHAR and obs-text.
_ESCAPABLE = frozenset("\t").union(map(chr, [*range(0x20, 0x7F), *range(0x80, 0x100)]))


def is_media_type(value: str) -> bool:
    """True when ``value`` is ``type "/" subtype *( OWS ";" OWS [ parameter ] )``, without leading or trailing
    whitespace; a parameter is ``token "=" ( token / quoted-string )`` (RFC 9110 §5.6.6)."""
    end = len(value)
    position = _token_end(value, 0)
    if position == 0 or position == end or value[position] != "/":
        return False
    subtype_start = position + 1
    position = _token_end(value, subtype_start)
    if position == subtype_start:
        return False
    while position < end:
        position = _whitespace_end(value, position)
        if position == end or value[position] != ";":
            return False
        position = _whitespace_end(value, position + 1)
        if position == end or value[position] == ";":
            continue  # an empty parameter
        position = _parameter_end(value, position)
        if position < 0:
            return False
    return True


def _parameter_end(value: str, start: int) -> int:
    """Where the parameter starting at ``start`` ends, or -1 when there is none."""
    name_end = _token_end(value, start)
    if name_end == start or name_end == len(value) or value[name_end] != "=":
        return -1
    value_start = name_end + 1
    if value_start < len(value) and value[value_start] == '"':
        return _quoted_string_end(value, value_start)
    value_end = _token_end(value, value_start)
    return value_end if value_end > value_start else -1


def _token_end(value: str, start: int) -> int:
    position = start
    while position < len(value) and value[position] in TOKEN_CHARACTERS:
        position += 1
    return position


def _whitespace_end(value: str, start: int) -> int:
    position = start
    while position < len(value) and value[position] in _OPTIONAL_WHITESPACE:
        position += 1
    return position


def _quoted_string_end(value: str, start: int) -> int:
    """Where the quoted-string opening at ``start`` ends (after its closing quote), or -1 (RFC 9110 §5.6.4)."""
    position = start + 1
    while position < len(value):
        character = value[position]
        if character == '"':
            return position + 1
        if character == "\\":
            if position + 1 == len(value) or value[position + 1] not in _ESCAPABLE:
                return -1
            position += 2
        elif character in _QUOTED_TEXT:
            position += 1
        else:
            return -1
    return -1
