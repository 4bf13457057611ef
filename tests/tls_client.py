"""TLS on the client side for real-server tests and bench checks: a throwaway CA and server certificate (trustme),
and a client that sends exactly the TLS bytes a test chooses, when it chooses."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

import trustme

#: How long a client waits for the server to end a connection before it gives up (uvloop's handshake bound is 60 s).
GIVE_UP_S = 15.0


@dataclass(frozen=True)
class TlsFiles:
    """A server certificate for localhost and 127.0.0.1, its key, and the CA a client must trust."""

    certfile: Path
    keyfile: Path
    ca_file: Path

    @classmethod
    def make(cls, directory: Path) -> TlsFiles:
        """New files in ``directory``, from a new CA."""
        ca = trustme.CA()
        cert = ca.issue_cert("localhost", "127.0.0.1")
        files = cls(directory / "cert.pem", directory / "key.pem", directory / "ca.pem")
        cert.cert_chain_pems[0].write_to_path(str(files.certfile))
        cert.private_key_pem.write_to_path(str(files.keyfile))
        ca.cert_pem.write_to_path(str(files.ca_file))
        return files

    def server_env(self, header_timeout_s: float, write_timeout_s: float) -> dict[str, str]:
        """The variables that turn TLS on (``UVICORN_SSL_*``, as the image is configured), with these timeouts."""
        return {
            "UVICORN_SSL_CERTFILE": str(self.certfile),
            "UVICORN_SSL_KEYFILE": str(self.keyfile),
            "ECHO_HEADER_TIMEOUT_S": str(header_timeout_s),
            "ECHO_WRITE_TIMEOUT_S": str(write_timeout_s),
        }

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only the test CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))


class BioClient:
    """A TLS client over a plain socket through memory BIOs, so a test decides which bytes go out and when."""

    def __init__(self, port: int, context: ssl.SSLContext) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.connected_at = time.monotonic()
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")

    def client_hello(self) -> bytes:
        """The ClientHello this client would send first (not sent)."""
        with contextlib.suppress(ssl.SSLWantReadError):
            self.tls.do_handshake()
        return self.outgoing.read()

    def handshake(self, hello_sent: bool = False) -> None:
        """Complete the handshake (after ``client_hello`` when ``hello_sent``)."""
        if not hello_sent:
            self.sock.sendall(self.client_hello())
        self.sock.settimeout(GIVE_UP_S)
        while True:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the server closed the connection during the handshake")
            self.incoming.write(data)
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.sock.sendall(self.outgoing.read())
        self.sock.sendall(self.outgoing.read())

    def send(self, data: bytes) -> None:
        self.tls.write(data)
        self.sock.sendall(self.outgoing.read())

    def read_until_tcp_close(self, *, or_head: bool = False) -> tuple[bytes, bool]:
        """Application bytes until the server's TCP close (never answering its close_notify), or with ``or_head``
        until a whole response head came first; and whether either happened within ``GIVE_UP_S``."""
        plain = b""
        self.sock.settimeout(GIVE_UP_S)
        try:
            while data := self.sock.recv(65536):
                self.incoming.write(data)
                plain += self._decrypt()
                if or_head and b"\r\n\r\n" in plain:
                    break
        except TimeoutError:
            return plain, False
        except ConnectionResetError:
            pass
        return plain, True

    def _decrypt(self) -> bytes:
        plain = b""
        while True:
            try:
                data = self.tls.read(65536)
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):  # need more, or the server's close_notify
                return plain
            except ssl.SSLError:  # bytes after the handshake failed (an alert): not application data
                return plain
            if not data:  # the server's close_notify, once read
                return plain
            plain += data

    def wait_for_end(self) -> float | None:
        """Seconds from the connect until the server answered (a refusal's head) or closed the TCP connection,
        or None if neither within ``GIVE_UP_S``."""
        _, ended = self.read_until_tcp_close(or_head=True)
        return time.monotonic() - self.connected_at if ended else None

    def close(self) -> None:
        self.sock.close()


# What a client does before it waits for the server to end the connection (``BioClient.wait_for_end``).


def silent(client: BioClient) -> None:
    """Connects and sends nothing."""


def partial_hello(client: BioClient) -> None:
    """Sends the first 40 bytes of a ClientHello."""
    client.sock.sendall(client.client_hello()[:40])


def trickled_hello(client: BioClient) -> None:
    """Sends a ClientHello a byte every 0.1 s (each byte is progress, never enough) until the server closes."""
    for byte in client.client_hello():
        try:
            client.sock.sendall(bytes([byte]))
        except OSError:
            return  # closed by the server
        if time.monotonic() - client.connected_at > GIVE_UP_S:
            return
        time.sleep(0.1)


def stalled_after_server_hello(client: BioClient) -> None:
    """Sends a whole ClientHello, gets the server's flight, never sends its Finished."""
    client.sock.sendall(client.client_hello())


def tls_get(port: int, context: ssl.SSLContext, request: bytes) -> int:
    """The status of ``request`` sent over a fresh TLS connection."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=GIVE_UP_S)
    with raw, context.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(request)
        answer = b""
        while b"\r\n" not in answer and (data := tls.recv(4096)):
            answer += data
    return int(answer.split(b" ", 2)[1])


def unanswered_close(port: int, context: ssl.SSLContext, request: bytes) -> tuple[bytes, bool, float]:
    """Send ``request`` over TLS, read the answer and the server's close_notify, never send ours: (the answer,
    whether the TCP connection closed before ``GIVE_UP_S``, seconds from the request to the close)."""
    client = BioClient(port, context)
    try:
        client.handshake()
        client.send(request)
        sent = time.monotonic()
        answer, closed = client.read_until_tcp_close()
        return answer, closed, time.monotonic() - sent
    finally:
        client.close()
