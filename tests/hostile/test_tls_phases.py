"""Every phase of a TLS connection is bounded, against real servers with a throwaway certificate (trustme).

The phases before the request head (a silent TCP connection, a partial or trickled ClientHello, a handshake that
stalls after the ServerHello) end within ``ECHO_HEADER_TIMEOUT_S`` of the accept; a TLS close the client never
answers ends within ``ECHO_WRITE_TIMEOUT_S``. Before, uvloop's own bounds applied: 60 s for a handshake, 30 s for a
TLS close.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.servers import RunningServer, ServerPool
from tests.tls_client import (
    GIVE_UP_S,
    BioClient,
    TlsFiles,
    partial_hello,
    silent,
    stalled_after_server_hello,
    trickled_hello,
)

pytestmark = pytest.mark.server

HEADER_TIMEOUT_S = 3.0
WRITE_TIMEOUT_S = 1.0
#: What a loaded machine may add to a server's timer before the test calls it a missed bound.
MARGIN_S = 1.5
GET = b"GET /tls HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return TlsFiles.make(tmp_path_factory.mktemp("tls-phases"))


def tls_env(files: TlsFiles) -> dict[str, str]:
    return files.server_env(HEADER_TIMEOUT_S, WRITE_TIMEOUT_S)


@pytest.fixture
def tls_server(server_pool: ServerPool, tls_files: TlsFiles) -> Iterator[RunningServer]:
    running = server_pool.get((), tls_env(tls_files))
    with running.clean_log():
        yield running


@pytest.mark.parametrize(
    "behaviour",
    [
        pytest.param(silent, id="no-client-hello"),
        pytest.param(partial_hello, id="partial-client-hello"),
        pytest.param(trickled_hello, id="trickled-client-hello"),
        pytest.param(stalled_after_server_hello, id="stalled-after-server-hello"),
    ],
)
def test_a_handshake_ends_within_the_head_timeout_of_the_accept(
    tls_server: RunningServer, tls_files: TlsFiles, behaviour: Callable[[BioClient], None]
) -> None:
    client = BioClient(tls_server.port, tls_files.client_context())
    try:
        behaviour(client)
        closed_after_s = client.wait_for_end()
    finally:
        client.close()
    assert closed_after_s is not None, f"the connection stayed open {GIVE_UP_S:g} s"
    assert closed_after_s < HEADER_TIMEOUT_S + MARGIN_S


def test_a_tls_close_the_client_never_answers_ends_within_the_write_timeout(
    tls_server: RunningServer, tls_files: TlsFiles
) -> None:
    # The client reads the answer and the server's close_notify but never sends its own: the server drops
    # the TCP connection ECHO_WRITE_TIMEOUT_S later (uvloop's default wait was 30 s).
    client = BioClient(tls_server.port, tls_files.client_context())
    try:
        client.handshake()
        client.send(GET)
        answered_at = time.monotonic()
        answer, closed = client.read_until_tcp_close()
        close_s = time.monotonic() - answered_at
    finally:
        client.close()
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert closed, f"the TLS close was still pending after {GIVE_UP_S:g} s"
    assert close_s < WRITE_TIMEOUT_S + MARGIN_S
