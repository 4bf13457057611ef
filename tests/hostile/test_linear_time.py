"""Every parser and regular expression that sees client input answers 100,000 adversarial characters quickly.

A linear parser takes milliseconds on these inputs; one that backtracks takes minutes or more, and
it runs on the event loop, where it would freeze every connection. The bound of 2 s is generous on
purpose: it tells linear from exponential, not fast from slow.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from app.controls.media_type import is_media_type
from app.controls.negotiation import format_from_accept
from app.controls.parse import parse_controls
from app.echo.forms import filename_as_sent
from app.errors import InvalidControl
from app.ops.access_log import escape
from app.ops.observe import RequestIds
from app.settings import Settings
from tests.conftest import ClientFactory

ADVERSARIAL_CHARACTERS = 100_000
LINEAR_BOUND_S = 2.0


def _controls(query: str = "", field: tuple[str, str] | None = None) -> Callable[[], object]:
    headers = [(field[0].lower().encode("latin-1"), field[1].encode("latin-1"))] if field else []

    def parse() -> object:
        try:
            return parse_controls(query.encode("latin-1"), headers, max_delay_ms=10_000, allow_active_content=False)
        except InvalidControl as refusal:
            return refusal

    return parse


def _repeat(unit: str, prefix: str = "", suffix: str = "", length: int = ADVERSARIAL_CHARACTERS) -> str:
    """``unit`` repeated so that the whole value holds about ``length`` characters."""
    return prefix + unit * ((length - len(prefix) - len(suffix)) // len(unit)) + suffix


CASES = [
    # The freeze of the hardening issue: spaces ("+" in a query) around empty parameters, then a bad byte.
    pytest.param(_controls(_repeat("+;+", "echo_body=x&echo_content_type=a/b", "+!")), id="content-type-query"),
    pytest.param(_controls(field=("X-Echo-Content-Type", _repeat(" ; ", "a/b", " !"))), id="content-type-field"),
    pytest.param(_controls(field=("X-Echo-Content-Type", _repeat("\\a", 'a/b;x="'))), id="content-type-open-quote"),
    pytest.param(_controls(field=("X-Echo-Content-Type", _repeat(";x=y", "a/b", ";!"))), id="content-type-params"),
    pytest.param(lambda: is_media_type(_repeat("\t;\t", "a/b", "!")), id="media-type-tabs"),
    pytest.param(_controls(field=("X-Echo-Header", _repeat("a", suffix="!: v"))), id="echo-header-name"),
    pytest.param(_controls(field=("X-Echo-Header", _repeat("\t", "X-A: ", "\x01"))), id="echo-header-value"),
    pytest.param(_controls(_repeat("a", "echo_status=200&echo_sequence=", "!")), id="sequence-key"),
    pytest.param(_controls(_repeat("echo", "x=")), id="query-pre-check"),
    pytest.param(lambda: filename_as_sent(_repeat(";\t ", "form-data").encode()), id="filename-semicolons"),
    pytest.param(lambda: filename_as_sent(_repeat('\\"', 'form-data; filename="').encode()), id="filename-quote"),
    pytest.param(lambda: format_from_accept(_repeat("0", "application/json;q=0.")), id="accept-qvalue"),
    pytest.param(lambda: format_from_accept(_repeat(";", "a/b")), id="accept-semicolons"),
    pytest.param(lambda: RequestIds().pick(_repeat("a", suffix="!").encode()), id="request-id"),
    pytest.param(lambda: escape(_repeat('\x00"\\')), id="log-escape"),
]


@pytest.mark.parametrize("parse", CASES)
def test_adversarial_input_is_answered_in_linear_time(parse: Callable[[], object]) -> None:
    started = time.perf_counter()
    parse()
    assert time.perf_counter() - started < LINEAR_BOUND_S


async def test_the_freezing_content_type_gets_400_quickly_through_the_app(make_client: ClientFactory) -> None:
    settings = Settings()
    client = make_client(settings)
    # As long as the real server lets a target be (httpx refuses URLs much longer).
    target = "/?" + _repeat("+;+", "echo_body=x&echo_content_type=a/b", "+!", settings.max_target_bytes - 2)
    started = time.perf_counter()
    response = await client.get(target)
    assert time.perf_counter() - started < LINEAR_BOUND_S
    assert response.status_code == 400
    assert "echo_content_type=" in response.text
    assert "is invalid" in response.text


@pytest.mark.parametrize(
    "request_headers",
    [
        pytest.param(_repeat("a , ", suffix="@"), id="token-list-commas"),
        pytest.param(_repeat("a\t", suffix=","), id="token-list-tabs"),
    ],
)
async def test_cors_preflight_header_list_is_checked_in_linear_time(
    make_client: ClientFactory, request_headers: str
) -> None:
    client = make_client(Settings(cors_origins=("https://site.test",)))
    started = time.perf_counter()
    response = await client.options(
        "/",
        headers={
            "Origin": "https://site.test",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": request_headers,
        },
    )
    assert time.perf_counter() - started < LINEAR_BOUND_S
    assert response.status_code == 204
    assert "access-control-allow-headers" not in response.headers  # not a valid token list: not allowed
