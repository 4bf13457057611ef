"""The head scan's limits and joins: Content-Length digits past every ceiling, Accept fields combined."""

from __future__ import annotations

import pytest

from app.echo.head import MAX_LENGTH_DIGITS, parse_content_length, scan_head


@pytest.mark.parametrize(
    ("value", "length"),
    [
        pytest.param(b"0", 0, id="zero"),
        pytest.param(b"9" * MAX_LENGTH_DIGITS, int("9" * MAX_LENGTH_DIGITS), id="18-digits-as-written"),
        pytest.param(b"1" + b"0" * MAX_LENGTH_DIGITS, 10**MAX_LENGTH_DIGITS, id="19-digits-past-every-ceiling"),
        pytest.param(b"9" * 5000, 10**MAX_LENGTH_DIGITS, id="5000-digits-not-converted"),
        pytest.param(b"-1", None, id="not-decimal"),
    ],
)
def test_content_length(value: bytes, length: int | None) -> None:
    assert parse_content_length(value) == length


def test_several_accept_fields_are_one_list() -> None:
    # RFC 9110 §5.3: fields of the same name combine with ", " in order.
    head = scan_head([(b"accept", b"text/plain;q=0.1"), (b"accept", b"application/json")])
    assert head.accept == "text/plain;q=0.1, application/json"
    assert scan_head([(b"host", b"x")]).accept is None
