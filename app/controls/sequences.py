"""Status sequences for retry tests: ``echo_status=503,503,200&echo_sequence=key`` served in turn, per key."""

from __future__ import annotations

from collections import OrderedDict

MAX_KEYS = 10_000


class StatusSequences:
    """Per-key position in a status list, cycling; at most ``max_keys`` keys, least recently used dropped. Per
    process: with ``--workers N`` each worker keeps its own."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._positions: OrderedDict[str, tuple[tuple[int, ...], int]] = OrderedDict()

    def next_status(self, key: str, statuses: tuple[int, ...]) -> int:
        """The status to serve now for ``key``; a different list for a known key starts it afresh."""
        known = self._positions.pop(key, None)
        position = known[1] if known is not None and known[0] == statuses else 0
        self._positions[key] = (statuses, (position + 1) % len(statuses))
        if len(self._positions) > self.max_keys:
            self._positions.popitem(last=False)
        return statuses[position]

    def __len__(self) -> int:
        return len(self._positions)
