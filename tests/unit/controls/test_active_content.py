"""Which Content-Type values count as active (a browser renders or runs them)."""

from __future__ import annotations

import pytest

from app.controls.active_content import is_active_content_type


@pytest.mark.parametrize(
    "value",
    [
        "text/html",
        "TEXT/HTML; charset=utf-8",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "application/rss+xml",
        "text/xsl",
        "application/xslt+xml",
        "text/javascript",
        "application/x-javascript",
        "text/ecmascript",
        "text/jscript",
        "text/livescript",
        "multipart/x-mixed-replace; boundary=b",
        "multipart/mixed; boundary=b",
        "multipart/byteranges; boundary=b",
        "text/rdf",
        "application/rdf",
        "text/plain, text/html",
        "text/plain;x=,text/html",
        'text/plain; x="a,b"',
    ],
)
def test_types_browsers_render_or_run_are_active(value: str) -> None:
    assert is_active_content_type(value)


@pytest.mark.parametrize(
    "value",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/json",
        "application/octet-stream",
        "image/png",
        "text/csv",
    ],
)
def test_other_types_are_passive(value: str) -> None:
    assert not is_active_content_type(value)
