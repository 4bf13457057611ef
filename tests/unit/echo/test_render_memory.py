"""The rendering estimate: small content at its worst case without a scan, large content scanned."""

from __future__ import annotations

from app.echo.render_memory import UNSCANNED_BYTES, json_render_bytes, log_record_bytes


def test_small_content_is_reserved_at_its_worst_case_without_a_scan() -> None:
    # Plain ASCII would need far less; unscanned, a byte counts as four in its str and six in its JSON text.
    size = 16 * 1024
    assert json_render_bytes([b"a" * size], form=False) == 4 * size + 2 * 6 * size
    assert log_record_bytes([b"a" * size]) == size + 4 * size + 2 * 6 * size


def test_large_content_is_scanned_and_plain_ascii_costs_its_size() -> None:
    size = UNSCANNED_BYTES + 1
    assert json_render_bytes([b"a" * size], form=False) == size + 2 * size


def test_large_content_with_control_characters_counts_six_bytes_each() -> None:
    size = UNSCANNED_BYTES * 2
    assert json_render_bytes([b"\x01" * size], form=False) == size + 2 * 6 * size
