"""Parsing JSON request content strictly (RFC 8259), with a reason for every refusal."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from typing import Any

MAX_JSON_DEPTH = 512


class _JsonRefused(ValueError):
    pass


def is_json_media_type(media_type: str) -> bool:
    """True for ``application/json`` and any ``+json`` structured syntax suffix (RFC 6839 §3.1)."""
    kind, _, subtype = media_type.partition("/")
    return media_type == "application/json" or (
        bool(kind) and len(subtype) > len("+json") and subtype.endswith("+json")
    )


def parse_memory_bytes(chunks: Sequence[bytes]) -> int:
    """An upper estimate of the memory ``parse_json`` holds at its peak for the content ``chunks``, in bytes.

    Python objects cost far more than their JSON text (``[{},{},...]``: about 80 bytes of dict per 3 bytes of
    text), so the estimate counts the text's structure: objects, arrays and the values their separators imply.
    """
    estimate = 0
    for chunk in chunks:
        separators = chunk.count(b",") + chunk.count(b":")
        estimate += len(chunk) * 2 + chunk.count(b"{") * 232 + chunk.count(b"[") * 88 + separators * 72
    return estimate


def parse_json(content: bytes) -> tuple[Any, str | None]:
    """``(value, None)``, or ``(None, reason)`` when refused (invalid UTF-8 or syntax, NaN, Infinity, a number out of
    range or over the digit limit, nesting past ``MAX_JSON_DEPTH``). Duplicate keys keep the last. Never raises."""
    if not content:
        return None, "empty content"
    try:
        text = content.decode("utf-8")  # RFC 8259 §8.1: UTF-8 only, not UTF-16/32 guessing
    except UnicodeDecodeError:
        return None, "invalid UTF-8"
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _JsonRefused as exc:
        return None, str(exc)
    except json.JSONDecodeError as exc:
        return None, f"invalid syntax: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return None, f"nesting deeper than {MAX_JSON_DEPTH}"
    except ValueError as exc:  # int() past sys.get_int_max_str_digits()
        return None, f"an integer has more than {sys.get_int_max_str_digits()} digits ({exc})"
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        return None, f"nesting deeper than {MAX_JSON_DEPTH}"
    return value, None


def _refuse_constant(name: str) -> float:
    raise _JsonRefused(f"{name} is not valid JSON (RFC 8259 §6)")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _JsonRefused(f"number out of range: {text[:40]}")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    # Iterative walk: the parsed value is already bounded by the parser's own recursion limit.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
