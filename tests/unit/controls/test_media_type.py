"""The media-type grammar (RFC 9110 §8.3.1) as the hand parser reads it, against a regular expression oracle."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.controls.media_type import is_media_type

# The grammar as a regular expression, with possessive quantifiers so the oracle itself cannot backtrack.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]++"
_QUOTED = r'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*+"'
ORACLE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:[ \t]*+;[ \t]*+(?:{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))?)*+")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("text/plain", id="plain"),
        pytest.param("text/plain;charset=utf-8", id="parameter"),
        pytest.param("text/plain ; charset=utf-8", id="whitespace-around-semicolon"),
        pytest.param("text/plain;\tcharset=utf-8", id="tab"),
        pytest.param('text/plain;title="a \\" b"', id="quoted-pair"),
        pytest.param('text/plain;title=""', id="empty-quoted"),
        pytest.param('text/plain;title="caf\u00e9"', id="obs-text"),
        pytest.param("text/plain;", id="empty-parameter-at-end"),
        pytest.param("text/plain; ", id="whitespace-after-last-semicolon"),
        pytest.param("text/plain;;a=b", id="empty-parameter-between"),
        pytest.param("application/vnd.api+json;a=b;c=d", id="several"),
    ],
)
def test_media_types_accepted(value: str) -> None:
    assert is_media_type(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("text", id="no-slash"),
        pytest.param("/plain", id="no-type"),
        pytest.param("text/", id="no-subtype"),
        pytest.param(" text/plain", id="leading-space"),
        pytest.param("text/plain ", id="trailing-space"),
        pytest.param("text /plain", id="space-before-slash"),
        pytest.param("text/plain; x", id="parameter-without-value"),
        pytest.param("text/plain;x=", id="empty-value"),
        pytest.param("text/plain;x = y", id="space-around-equals"),
        pytest.param('text/plain;x="open', id="unterminated-quote"),
        pytest.param('text/plain;x="a\\', id="backslash-at-end"),
        pytest.param('text/plain;x="a\x01"', id="control-in-quotes"),
        pytest.param("text/plain;x=\u0100", id="past-latin-1"),
        pytest.param("text/plain,text/html", id="comma"),
        pytest.param("a/b ; ; ; !", id="the-freezing-shape"),
    ],
)
def test_media_types_refused(value: str) -> None:
    assert not is_media_type(value)


@given(st.text(alphabet='ab/;= \t"\\,!\x01\u00e9', max_size=30))
def test_parser_agrees_with_the_grammar(value: str) -> None:
    assert is_media_type(value) == bool(ORACLE.fullmatch(value))
