"""Strict JSON parsing of request content, with a reason for every refusal."""

from __future__ import annotations

import pytest

from app.echo.json_content import MAX_JSON_DEPTH, is_json_media_type, parse_json, parse_memory_bytes


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b'{"a": 1}', {"a": 1}, id="object"),
        pytest.param(b'{"a": 1, "a": 2}', {"a": 2}, id="duplicate-keys-keep-last"),
        pytest.param(b"[1, 2.5, -3e2, true, null]", [1, 2.5, -300.0, True, None], id="array"),
        pytest.param(b'"\\u00e9"', "é", id="escaped-string"),
        pytest.param(b"1" * 4000, int("1" * 4000), id="big-integer-under-digit-limit"),
        pytest.param(b"1e308", 1e308, id="largest-finite-float"),
        pytest.param(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, None, id="at-depth-limit"),
    ],
)
def test_valid_json_parses(content: bytes, expected: object) -> None:
    value, error = parse_json(content)
    assert error is None
    if expected is not None:
        assert value == expected


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"", "empty content", id="empty"),
        pytest.param(b'{"a": }', "invalid syntax: Expecting value at line 1 column 7", id="syntax"),
        pytest.param(b"NaN", "NaN is not valid JSON", id="nan"),
        pytest.param(b"[Infinity]", "Infinity is not valid JSON", id="infinity"),
        pytest.param(b"-Infinity", "-Infinity is not valid JSON", id="minus-infinity"),
        pytest.param(b"1e400", "number out of range", id="float-overflow"),
        pytest.param(b"1" * 5000, "more than 4300 digits", id="integer-over-digit-limit"),
        pytest.param(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "nesting deeper than 512", id="513"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "nesting deeper than 512", id="100k-deep"),
        pytest.param(b'{"a": "\xff"}', "invalid UTF-8", id="invalid-utf8"),
        pytest.param(b"\xef\xbb\xbf{}", "invalid syntax", id="utf8-bom"),
        pytest.param(b"{} {}", "invalid syntax: Extra data", id="trailing-data"),
    ],
)
def test_refused_json_names_the_reason(content: bytes, reason: str) -> None:
    value, error = parse_json(content)
    assert value is None
    assert error is not None
    assert reason in error


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        ("application/json", True),
        ("application/problem+json", True),
        ("application/vnd.api+json", True),
        ("text/plain", False),
        ("application/jsonp", False),
        ("+json", False),
        ("/+json", False),  # neither a type nor a subtype before the suffix
        ("application/+json", False),
        ("/vnd.api+json", False),
        ("/x/vnd.api+json", False),  # an empty type before the first slash, whatever follows
    ],
)
def test_json_media_types(media_type: str, expected: bool) -> None:
    assert is_json_media_type(media_type) is expected


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"", "empty content", id="empty"),
        pytest.param(b"\xff", "invalid UTF-8", id="invalid-utf8"),
        pytest.param(b"1" * 50 + b"e400", "number out of range: " + "1" * 40, id="out-of-range-quotes-40-characters"),
    ],
)
def test_the_whole_reason_is_given(content: bytes, reason: str) -> None:
    assert parse_json(content) == (None, reason)


@pytest.mark.parametrize(
    ("chunks", "estimate_bytes"),
    [
        pytest.param([], 0, id="nothing"),
        pytest.param([b"1"], 2, id="text-twice"),
        pytest.param([b"{}"], 2 * 2 + 232, id="object"),
        pytest.param([b"[]"], 2 * 2 + 88, id="array"),
        pytest.param([b"1,2"], 3 * 2 + 72, id="comma"),
        pytest.param([b'{"a":1}'], 7 * 2 + 232 + 72, id="colon"),
        pytest.param([b"[{},", b"{}]"], 7 * 2 + 88 + 2 * 232 + 72, id="summed-over-chunks"),
    ],
)
def test_the_parse_estimate_counts_text_and_structure(chunks: list[bytes], estimate_bytes: int) -> None:
    # The in-flight budget reserves this before parsing: each term guards a shape that grows memory (item 5 of #17).
    assert parse_memory_bytes(chunks) == estimate_bytes
