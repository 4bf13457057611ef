"""The write-stall clock and the drop it leads to, on a real event loop (the timers' order, not wall time)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.server.write_stall import WriteStallClock, abandon
from tests.fake_transport import FakeTransport

SHORT_S = 0.01
# Past SHORT_S: the loop runs timers in deadline order, so a shorter timer has run when this sleep ends.
PAST_SHORT_S = 0.2


def clock(timeout_s: float = SHORT_S) -> tuple[WriteStallClock, list[str]]:
    stalls: list[str] = []
    return WriteStallClock(asyncio.get_running_loop(), timeout_s, lambda: stalls.append("stall")), stalls


async def test_a_pause_that_outlasts_the_timeout_is_a_stall_once() -> None:
    stall_clock, stalls = clock()
    stall_clock.start()
    stall_clock.start()  # paused again while already counting: still one clock
    await asyncio.sleep(PAST_SHORT_S)
    assert stalls == ["stall"]


async def test_a_pause_shorter_than_the_timeout_is_no_stall() -> None:
    stall_clock, stalls = clock(timeout_s=30)
    stall_clock.start()
    await asyncio.sleep(PAST_SHORT_S)
    stall_clock.stop()
    assert stalls == []


async def test_resuming_stops_the_clock_and_a_later_pause_starts_it_afresh() -> None:
    stall_clock, stalls = clock()
    stall_clock.start()
    stall_clock.stop()
    await asyncio.sleep(PAST_SHORT_S)
    assert stalls == []
    stall_clock.start()
    await asyncio.sleep(PAST_SHORT_S)
    assert stalls == ["stall"]


async def test_after_a_stall_the_clock_can_run_again() -> None:
    stall_clock, stalls = clock()
    stall_clock.start()
    await asyncio.sleep(PAST_SHORT_S)
    stall_clock.start()
    await asyncio.sleep(PAST_SHORT_S)
    assert stalls == ["stall", "stall"]


class AbortRecordingTransport(FakeTransport):
    def __init__(self) -> None:
        super().__init__()
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True


@pytest.mark.parametrize(
    ("client", "peer"),
    [pytest.param(("127.0.0.1", 5000), "127.0.0.1:5000", id="peer"), pytest.param(None, "-", id="unknown-peer")],
)
def test_abandon_aborts_and_logs_one_line_naming_the_peer_and_the_setting(
    caplog: pytest.LogCaptureFixture, client: tuple[str, int] | None, peer: str
) -> None:
    transport = AbortRecordingTransport()
    with caplog.at_level(logging.INFO, logger="test.write_stall"):
        abandon(transport, logging.getLogger("test.write_stall"), client, 2.5)  # type: ignore[arg-type]
    assert transport.aborted
    assert [record.getMessage() for record in caplog.records] == [
        f"Closed the connection of {peer}: no write progress for 2.5 s (ECHO_WRITE_TIMEOUT_S)"
    ]
