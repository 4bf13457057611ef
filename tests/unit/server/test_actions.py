"""ServerActions on a stand-in cycle: what each action changes, and trailers only where the response is chunked."""

from __future__ import annotations

import asyncio

import pytest

from app.server.actions import ACTIONS_EXTENSION, ServerActions, Writer, actions_of
from tests.fake_transport import FakeTransport


class _Writer:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class _Cycle:
    def __init__(self, chunked: bool | None) -> None:
        self.written = _Writer()
        self.transport: Writer = self.written
        self.disconnected = False
        self.chunked_encoding = chunked
        self.message_event = asyncio.Event()


def _actions(cycle: _Cycle) -> tuple[ServerActions, _Writer]:
    writer = _Writer()
    actions = ServerActions(FakeTransport(), writer)  # type: ignore[arg-type]
    actions.cycle = cycle
    return actions, writer


@pytest.mark.parametrize("chunked", [pytest.param(False, id="content-length"), pytest.param(None, id="no-content")])
def test_trailers_need_a_chunked_response(chunked: bool | None) -> None:
    cycle = _Cycle(chunked)
    actions, _ = _actions(cycle)
    transport = cycle.transport
    assert actions.trailers([(b"X-A", b"1")]) is False
    assert cycle.transport is transport


def test_trailers_replace_only_the_last_chunk() -> None:
    cycle = _Cycle(True)
    actions, _ = _actions(cycle)
    written = cycle.written
    assert actions.trailers([(b"X-A", b"1"), (b"X-B", b"2")]) is True
    cycle.transport.write(b"3\r\nabc\r\n")
    cycle.transport.write(b"0\r\n\r\n")
    assert written.writes == [b"3\r\nabc\r\n", b"0\r\nX-A: 1\r\nX-B: 2\r\n\r\n"]


def test_close_ends_the_response_and_closes_the_writer() -> None:
    cycle = _Cycle(False)
    actions, writer = _actions(cycle)
    actions.close()
    assert cycle.disconnected
    assert cycle.message_event.is_set()
    assert writer.closed


def test_actions_of_a_scope_without_the_extension_is_none() -> None:
    actions, _ = _actions(_Cycle(True))
    assert actions_of({"type": "http"}) is None
    assert actions_of({"type": "http", "extensions": {ACTIONS_EXTENSION: actions}}) is actions
