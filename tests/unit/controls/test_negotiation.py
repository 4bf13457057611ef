"""Accept negotiation (RFC 9110 §12.5.1) and the echo_format control."""

from __future__ import annotations

import pytest

from app.controls.negotiation import format_from_accept, format_from_control
from app.errors import InvalidControl


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param(None, "text", id="absent"),
        pytest.param("", "text", id="empty"),
        pytest.param("*/*", "text", id="anything"),
        pytest.param("application/json", "json", id="json-only"),
        pytest.param("APPLICATION/JSON", "json", id="case-insensitive"),
        pytest.param("text/plain", "text", id="text-only"),
        pytest.param("application/json, text/plain", "text", id="tie-is-text"),
        pytest.param("application/json, */*;q=0.5", "json", id="httpie"),
        pytest.param("application/json;q=0.4, text/plain;q=0.5", "text", id="text-higher-q"),
        pytest.param("text/plain;q=0, application/json;q=0.1", "json", id="text-refused"),
        pytest.param("application/*", "json", id="type-wildcard"),
        pytest.param("application/*;q=0.9, text/*;q=0.8", "json", id="wildcards-ranked"),
        pytest.param("application/json;q=0, */*", "text", id="json-refused"),
        pytest.param("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text", id="browser"),
        pytest.param("application/json; charset=utf-8; q=1.0", "json", id="params-before-q"),
        pytest.param("application/json;q=abc", "text", id="bad-q"),
        pytest.param("application/json;q=1.5", "text", id="q-over-1"),
        pytest.param("application/json;q=0.1234", "text", id="q-too-precise"),
        pytest.param("json", "text", id="no-slash"),
        pytest.param(",,application/json,,", "json", id="empty-elements"),
        pytest.param("*/*;q=0.1, application/json;q=0.1", "text", id="equal-q"),
    ],
)
def test_format_from_accept(accept: str | None, expected: str) -> None:
    assert format_from_accept(accept) == expected


@pytest.mark.parametrize("value", ["text", "json"])
def test_format_control_accepts_known_values(value: str) -> None:
    assert format_from_control(value) == value


@pytest.mark.parametrize("value", ["", "JSON", "xml", "json "])
def test_format_control_refuses_others_naming_the_value(value: str) -> None:
    with pytest.raises(InvalidControl, match=r"echo_format=.*accepted values are text, json"):
        format_from_control(value)
