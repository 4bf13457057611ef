"""Autobahn|Testsuite cases the server once missed, replayed over raw sockets (``bench/autobahn.py`` runs them all).

RFC 6455 §5.4 lets control frames (close included) come between the fragments of a message.
"""

from __future__ import annotations

import pytest

from tests.rawws import CLOSE, CONTINUATION, TEXT, ServerFrame, close_frame, connect, frame, frames_until_close
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server


@pytest.fixture
def running(server_pool: ServerPool) -> RunningServer:
    return server_pool.get(())


def summary(frames: list[ServerFrame]) -> list[tuple[int, bytes | int | None]]:
    """(opcode, payload) per frame, the close frame as (CLOSE, its code)."""
    return [(f.opcode, f.close_code if f.opcode == CLOSE else f.payload) for f in frames]


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        pytest.param(
            [frame(TEXT, b"fragment1", fin=False), close_frame(1000), frame(CONTINUATION, b"fragment2")],
            [(CLOSE, 1000)],
            id="7.1.5-close-between-fragments-answered-1000",
        ),
    ],
)
async def test_frames_sent_in_one_write(
    running: RunningServer, sent: list[bytes], expected: list[tuple[int, bytes | int | None]]
) -> None:
    with running.clean_log():
        reader, writer = await connect(running.port)
        try:
            writer.write(b"".join(sent))
            assert summary(await frames_until_close(reader)) == expected
        finally:
            writer.close()
