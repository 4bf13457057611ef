"""RFC 3339 UTC timestamps, the part up to the second cached."""

from __future__ import annotations

import time


class Rfc3339Clock:
    """Formats epoch seconds as RFC 3339 UTC (``2026-01-02T03:04:05.000006Z``); thread-safe, as the cache is one
    tuple replaced whole."""

    def __init__(self) -> None:
        self._cached: tuple[int, str] = (-1, "")

    def format(self, epoch_s: float, fraction_digits: int = 6) -> str:
        """``epoch_s`` rounded to ``fraction_digits`` (3 or 6) decimal places, with the trailing ``Z``."""
        scale = 10**fraction_digits
        second, fraction = divmod(round(epoch_s * scale), scale)
        cached = self._cached
        if cached[0] != second:
            cached = self._cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{cached[1]}.{fraction:0{fraction_digits}d}Z"
