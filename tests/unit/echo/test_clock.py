"""RFC 3339 timestamps with the per-second cache."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.echo.clock import Rfc3339Clock


@pytest.mark.parametrize(
    ("moment", "digits", "expected"),
    [
        pytest.param(datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), 6, "2026-01-02T03:04:05.000006Z", id="micro"),
        pytest.param(datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), 3, "2026-01-02T03:04:05.123Z", id="milli"),
        pytest.param(datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), 3, "2027-01-01T00:00:00.000Z", id="carry"),
    ],
)
def test_format(moment: datetime, digits: int, expected: str) -> None:
    assert Rfc3339Clock().format(moment.timestamp(), digits) == expected


def test_the_cached_second_changes_with_the_time() -> None:
    clock = Rfc3339Clock()
    first = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    assert clock.format(first + 0.25, 3) == "2026-01-02T03:04:05.250Z"
    assert clock.format(first + 0.5, 3) == "2026-01-02T03:04:05.500Z"
    assert clock.format(first + 1.5, 3) == "2026-01-02T03:04:06.500Z"
    assert clock.format(first - 86400, 3) == "2026-01-01T03:04:05.000Z"
