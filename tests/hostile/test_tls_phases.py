"""Every phase of a TLS connection is bounded, against real servers with a throwaway certificate (trustme).

The phases before the request head (a silent TCP connection, a partial or trickled ClientHello, a handshake that
stalls after the ServerHello) end within ``ECHO_HEADER_TIMEOUT_S`` of the accept, and so does a head that follows
a slow handshake; a TLS close the client never answers ends within ``ECHO_WRITE_TIMEOUT_S``; pending handshakes
count in ``--limit-concurrency``; a shutdown with handshakes, idle TLS clients (HTTP or WebSocket) or a TLS request
pending is quick and quiet.
Before the fix uvloop's own bounds applied: 60 s for a handshake, 30 s for a TLS close.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterator

import pytest

from tests.servers import FORBIDDEN_LOG_WORDS, RunningServer, ServerPool
from tests.tls_client import (
    GIVE_UP_S,
    BioClient,
    TlsFiles,
    partial_hello,
    silent,
    stalled_after_server_hello,
    tls_get,
    trickled_hello,
    unanswered_close,
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


def test_the_head_timeout_counts_from_the_accept_not_from_the_handshake(
    tls_server: RunningServer, tls_files: TlsFiles
) -> None:
    # A handshake that takes most of the head timeout, then half a head: the connection ends within the head
    # timeout of the accept (with a 408, or closed when the handshake itself ran out), not that long after the
    # handshake (which was 2.5 + 3 s).
    client = BioClient(tls_server.port, tls_files.client_context())
    try:
        hello = client.client_hello()
        client.sock.sendall(hello[:40])
        time.sleep(HEADER_TIMEOUT_S - 0.5)
        client.sock.sendall(hello[40:])
        try:
            client.handshake(hello_sent=True)
            client.send(b"GET /slow HTTP/1.1\r\nHost: localhost\r\n")
        except (ConnectionError, ssl.SSLError):
            pass  # the handshake ran out on a slow machine: closing is a way of keeping the bound too
        answer, ended = client.read_until_tcp_close(or_head=True)
        elapsed_s = time.monotonic() - client.connected_at
    finally:
        client.close()
    assert ended
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")
    assert elapsed_s < HEADER_TIMEOUT_S + MARGIN_S


def test_a_tls_close_the_client_never_answers_ends_within_the_write_timeout(
    tls_server: RunningServer, tls_files: TlsFiles
) -> None:
    # The client reads the answer and the server's close_notify but never sends its own: the server drops
    # the TCP connection ECHO_WRITE_TIMEOUT_S later (uvloop's default wait was 30 s).
    answer, closed, close_s = unanswered_close(tls_server.port, tls_files.client_context(), GET)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert closed, f"the TLS close was still pending after {GIVE_UP_S:g} s"
    assert close_s < WRITE_TIMEOUT_S + MARGIN_S


def wait_until_served(port: int, context: ssl.SSLContext) -> None:
    """Until a GET gets 200: connections counted earlier (the start-up probe's, say) have expired."""
    deadline = time.monotonic() + GIVE_UP_S
    while tls_get(port, context, GET) != 200:
        assert time.monotonic() < deadline, "never served"
        time.sleep(0.2)


def test_pending_handshakes_count_in_the_concurrency_limit(server_pool: ServerPool, tls_files: TlsFiles) -> None:
    running = server_pool.get(("--limit-concurrency", "3"), tls_env(tls_files))
    context = tls_files.client_context()
    with running.clean_log():
        wait_until_served(running.port, context)
        pending = [socket.create_connection(("127.0.0.1", running.port)) for _ in range(2)]
        try:
            time.sleep(0.2)  # accepted
            # Two handshakes pending and this connection: three of three.
            assert tls_get(running.port, context, GET) == 503
        finally:
            for sock in pending:
                sock.close()
        # A handshake that failed is not reported to the protocol: it stays counted until its head timeout.
        time.sleep(HEADER_TIMEOUT_S + 0.5)
        assert tls_get(running.port, context, GET) == 200


def in_flight(client: BioClient) -> None:
    """Completes the handshake and sends a request answered 1.5 s later; reads nothing after."""
    client.handshake()
    client.send(b"GET /tls?echo_delay=1500 HTTP/1.1\r\nHost: localhost\r\n\r\n")


def idle_websocket(client: BioClient) -> None:
    """Completes the handshake and a WebSocket upgrade; reads nothing after the 101."""
    client.handshake()
    client.send(
        b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    answer, _ = client.read_until_tcp_close(or_head=True)
    assert answer.startswith(b"HTTP/1.1 101 ")


@pytest.mark.parametrize(
    "behaviours",
    [
        pytest.param((silent, partial_hello, stalled_after_server_hello), id="handshakes-pending"),
        pytest.param((BioClient.handshake,), id="idle-tls-client"),
        pytest.param((in_flight,), id="tls-request-in-flight"),
        pytest.param((idle_websocket,), id="idle-websocket-over-tls"),
    ],
)
def test_shutdown_with_tls_connections_pending_is_quick_and_quiet(
    tls_files: TlsFiles, behaviours: tuple[Callable[[BioClient], None], ...]
) -> None:
    # None of these clients ever answers the server's close_notify, as a keep-alive pool that reads nothing.
    env = {**tls_env(tls_files), "ECHO_HEADER_TIMEOUT_S": "30", "ECHO_WRITE_TIMEOUT_S": "30"}
    running = RunningServer((), env)
    clients: list[BioClient] = []
    try:
        for behaviour in behaviours:
            clients.append(BioClient(running.port, tls_files.client_context()))
            behaviour(clients[-1])
        time.sleep(0.5)  # accepted, and handshakes done
        started = time.monotonic()
        running.stop()
        stop_s = time.monotonic() - started
    finally:
        for client in clients:
            client.close()
        running.stop()
    bad = [line for line in running.log if any(word in line for word in FORBIDDEN_LOG_WORDS)]
    assert not bad
    # The graceful shutdown timeout is 8 s: before, a TLS close left unanswered held the server that long.
    assert stop_s < 5.0
