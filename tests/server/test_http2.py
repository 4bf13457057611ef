"""HTTP/2 against real servers: h2c with prior knowledge, h2 over TLS (ALPN), HTTP/1.1 over TLS on the same port.

The servers run the documented ``--http app.server.http2_protocol:EchoAutoZttpProtocol``: uvicorn's dispatcher of
``--http zttp --http2`` (zttp 0.0.35) with HTTP/2 connections bounded (``tests/hostile/test_http2_floods.py``). The
TLS one gets its certificate from ``trustme`` through ``UVICORN_SSL_CERTFILE`` / ``UVICORN_SSL_KEYFILE``, the way the
image is configured.

Bodyless requests (a HEADERS frame that ends the stream: GET, HEAD) hung before uvicorn 0.55, which reads zttp's
``Request.end_stream``; the tests of GET and HEAD below keep that in view. ``--http app.http2:EchoAutoZttpProtocol``,
the spelling documented before, still works: it re-exports the same class.
"""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from bench.hostile_http2 import HTTP2_OPTIONS
from tests.rawhttp import exchange
from tests.servers import ROOT, RunningServer, ServerPool

pytestmark = pytest.mark.server

#: What people typed for HTTP/2 before ``app.server.http2_protocol``.
OLD_HTTP2_OPTIONS = ("--http", "app.http2:EchoAutoZttpProtocol")
#: Bound for requests that are expected to succeed.
TIMEOUT_S = 10.0
PAYLOAD = bytes(range(256)) * 300 + b"\r\n\x00end"  # binary, not UTF-8, over one 16 KiB DATA frame

needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is installed by .ci/run")
needs_nghttp = pytest.mark.skipif(shutil.which("nghttp") is None, reason="nghttp2-client is installed by .ci/run")


@dataclass(frozen=True)
class TlsFiles:
    """A server certificate for localhost and 127.0.0.1, its key, and the CA a client must trust."""

    certfile: Path
    keyfile: Path
    ca_file: Path

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts only the test CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """Files made by trustme (a throwaway CA), written where uvicorn can read them."""
    directory = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    files = TlsFiles(directory / "cert.pem", directory / "key.pem", directory / "ca.pem")
    cert.cert_chain_pems[0].write_to_path(str(files.certfile))
    cert.private_key_pem.write_to_path(str(files.keyfile))
    ca.cert_pem.write_to_path(str(files.ca_file))
    return files


@pytest.fixture
def h2c_server(server_pool: ServerPool) -> Iterator[RunningServer]:
    """The HTTP/2 mode on cleartext: HTTP/1.1, or HTTP/2 when a connection opens with the preface."""
    running = server_pool.get(HTTP2_OPTIONS)
    with running.clean_log():
        yield running


@pytest.fixture
def tls_server(server_pool: ServerPool, tls_files: TlsFiles) -> Iterator[RunningServer]:
    """The HTTP/2 mode with TLS from ``UVICORN_SSL_*`` variables: ALPN offers h2 and http/1.1."""
    env = {"UVICORN_SSL_CERTFILE": str(tls_files.certfile), "UVICORN_SSL_KEYFILE": str(tls_files.keyfile)}
    running = server_pool.get(HTTP2_OPTIONS, env)
    with running.clean_log():
        yield running


def echo_url(running: RunningServer, path: str, *, tls: bool = False) -> str:
    """The URL of ``path`` on ``running``; over TLS it uses ``localhost``, a name the certificate holds."""
    return f"https://localhost:{running.port}{path}" if tls else f"http://127.0.0.1:{running.port}{path}"


def run_client(command: list[str], timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[bytes]:
    """Run a command-line client; its exit code is checked by the caller."""
    return subprocess.run(command, capture_output=True, timeout=timeout, check=False)


def body_bytes(document: dict[str, Any]) -> bytes:
    """The content a JSON echo reports, as bytes."""
    body = document["body"]
    raw = base64.b64decode(body["value"]) if body["encoding"] == "base64" else body["value"].encode()
    assert len(raw) == body["size"]
    return raw


# --- h2c with prior knowledge -------------------------------------------------------------------------------------


@needs_curl
def test_h2c_prior_knowledge_with_curl_echoes_a_post_as_http2(h2c_server: RunningServer, tmp_path: Path) -> None:
    upload = tmp_path / "payload.bin"
    upload.write_bytes(PAYLOAD)
    url = echo_url(h2c_server, "/h2c?echo_format=json")
    result = run_client(["curl", "-sS", "--http2-prior-knowledge", "--data-binary", f"@{upload}", url])
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["http_version"], document["scheme"], document["method"]) == ("2", "http", "POST")
    assert body_bytes(document) == PAYLOAD


@needs_nghttp
def test_h2c_prior_knowledge_with_nghttp_echoes_a_post_as_http2(h2c_server: RunningServer, tmp_path: Path) -> None:
    upload = tmp_path / "payload.bin"
    upload.write_bytes(PAYLOAD)
    # nghttp speaks h2c with prior knowledge on http:// URIs unless given --upgrade.
    result = run_client(["nghttp", "--data", str(upload), echo_url(h2c_server, "/nghttp?echo_format=json")])
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["http_version"], document["scheme"], document["method"]) == ("2", "http", "POST")
    assert body_bytes(document) == PAYLOAD


def test_h2c_prior_knowledge_with_httpx_echoes_a_post_as_http2(h2c_server: RunningServer) -> None:
    with httpx.Client(http1=False, http2=True, timeout=TIMEOUT_S) as client:
        response = client.post(echo_url(h2c_server, "/httpx?echo_format=json"), content=PAYLOAD)
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"
    document = response.json()
    assert (document["http_version"], document["scheme"]) == ("2", "http")
    assert body_bytes(document) == PAYLOAD


def test_h2c_same_port_still_serves_http11(h2c_server: RunningServer) -> None:
    with httpx.Client(timeout=TIMEOUT_S) as client:
        response = client.get(echo_url(h2c_server, "/h1?echo_format=json"))
    assert response.http_version == "HTTP/1.1"
    assert response.json()["http_version"] == "1.1"


# --- bodyless requests: HEADERS with END_STREAM (hung before uvicorn 0.55) ---------------------------------------


@needs_curl
def test_h2c_get_with_curl_is_echoed(h2c_server: RunningServer) -> None:
    result = run_client(["curl", "-sS", "--http2-prior-knowledge", echo_url(h2c_server, "/get?echo_format=json")])
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["method"], document["http_version"], body_bytes(document)) == ("GET", "2", b"")


@needs_curl
def test_h2c_head_with_curl_is_answered(h2c_server: RunningServer) -> None:
    result = run_client(["curl", "-sS", "--http2-prior-knowledge", "--head", echo_url(h2c_server, "/head")])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"HTTP/2 200")


@needs_nghttp
def test_h2c_get_with_nghttp_is_echoed(h2c_server: RunningServer) -> None:
    result = run_client(["nghttp", echo_url(h2c_server, "/get")])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"METHOD: GET\nTARGET: /get\n")


def test_h2c_get_with_httpx_prior_knowledge_is_echoed(h2c_server: RunningServer) -> None:
    """The timeout first seen with httpx was the server's fault (below), not the client's."""
    with httpx.Client(http1=False, http2=True, timeout=TIMEOUT_S) as client:
        response = client.get(echo_url(h2c_server, "/get?echo_format=json"))
    assert response.http_version == "HTTP/2"
    assert response.json()["http_version"] == "2"


def test_h2_over_tls_get_with_httpx_is_echoed(tls_server: RunningServer, tls_files: TlsFiles) -> None:
    with httpx.Client(http2=True, verify=tls_files.client_context(), timeout=TIMEOUT_S) as client:
        response = client.get(echo_url(tls_server, "/get?echo_format=json", tls=True))
    document = response.json()
    assert (response.http_version, document["http_version"], document["scheme"]) == ("HTTP/2", "2", "https")


# --- h2 over TLS (ALPN) -------------------------------------------------------------------------------------------


def test_tls_server_is_configured_by_uvicorn_ssl_variables(tls_server: RunningServer) -> None:
    assert not any(option.startswith("--ssl") for option in tls_server.options)
    assert any(f"Uvicorn running on https://127.0.0.1:{tls_server.port}" in line for line in tls_server.log)


def test_h2_over_tls_with_httpx_echoes_http2_and_https(tls_server: RunningServer, tls_files: TlsFiles) -> None:
    with httpx.Client(http2=True, verify=tls_files.client_context(), timeout=TIMEOUT_S) as client:
        response = client.post(echo_url(tls_server, "/tls?echo_format=json", tls=True), content=PAYLOAD)
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"  # ALPN chose h2
    document = response.json()
    assert (document["http_version"], document["scheme"], document["method"]) == ("2", "https", "POST")
    assert document["server"]["port"] == tls_server.port
    assert body_bytes(document) == PAYLOAD


def test_h2_over_tls_text_echo_is_byte_exact(tls_server: RunningServer, tls_files: TlsFiles) -> None:
    with httpx.Client(http2=True, verify=tls_files.client_context(), timeout=TIMEOUT_S) as client:
        response = client.put(echo_url(tls_server, "/text", tls=True), content=PAYLOAD)
    assert response.http_version == "HTTP/2"
    assert response.content.startswith(b"METHOD: PUT\nTARGET: /text\n")
    assert response.content.split(b"\n\nBODY:\n", 1)[1] == PAYLOAD


def test_http11_over_tls_on_the_same_server(tls_server: RunningServer, tls_files: TlsFiles) -> None:
    """A client offering only http/1.1 in ALPN gets HTTP/1.1, and a GET works there."""
    with httpx.Client(http1=True, http2=False, verify=tls_files.client_context(), timeout=TIMEOUT_S) as client:
        response = client.get(echo_url(tls_server, "/h1?echo_format=json", tls=True))
    assert response.status_code == 200
    assert response.http_version == "HTTP/1.1"
    document = response.json()
    assert (document["http_version"], document["scheme"], document["method"]) == ("1.1", "https", "GET")


@needs_curl
def test_h2_over_tls_with_curl(tls_server: RunningServer, tls_files: TlsFiles) -> None:
    url = echo_url(tls_server, "/curl?echo_format=json", tls=True)
    result = run_client(["curl", "-sS", "--http2", "--cacert", str(tls_files.ca_file), "--data-binary", "hi", url])
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["http_version"], document["scheme"], body_bytes(document)) == ("2", "https", b"hi")


# --- limits: zttp's own, not the default's ------------------------------------------------------------------------


async def test_http11_on_an_http2_server_has_the_zttp_field_line_limit(h2c_server: RunningServer) -> None:
    """HTTP/1.1 connections on an ``--http2`` port get zttp's HTTP/1.1 parser: 100 field lines pass, 101 do not."""
    statuses = []
    for count in (100, 101):
        fields = "".join(f"X-F{i}: v\r\n" for i in range(count - 1))
        statuses.append((await exchange(h2c_server.port, f"GET / HTTP/1.1\r\nHost: x\r\n{fields}\r\n".encode())).status)
    assert statuses == [200, 400]


def test_h2_header_section_of_300_fields_is_echoed(tls_server: RunningServer, tls_files: TlsFiles) -> None:
    """HTTP/2 has its own limit (a 64 KiB header list), not the 100 field lines of zttp's HTTP/1.1 parser."""
    fields = {f"x-f{i}": "v" * 100 for i in range(300)}
    with httpx.Client(http2=True, verify=tls_files.client_context(), timeout=TIMEOUT_S) as client:
        response = client.post(echo_url(tls_server, "/fields", tls=True), content=b"x", headers=fields)
    assert response.http_version == "HTTP/2"
    assert response.status_code == 200
    assert response.text.count("\nX-F") == 300


def test_the_docs_run_http2_with_the_options_these_tests_use() -> None:
    section = (
        (ROOT / "docs" / "protocols-and-limits.md").read_text().split("## HTTP/2 and TLS", 1)[1].split("\n## ", 1)[0]
    )
    assert f"python -m app --port 5000 {' '.join(HTTP2_OPTIONS)}\n" in section
    assert "-e UVICORN_SSL_CERTFILE=" in section
    assert "-e UVICORN_SSL_KEYFILE=" in section


def test_the_http2_class_people_typed_still_serves_http2(server_pool: ServerPool) -> None:
    running = server_pool.get(OLD_HTTP2_OPTIONS)
    with running.clean_log(), httpx.Client(http1=False, http2=True, timeout=TIMEOUT_S) as client:
        response = client.get(echo_url(running, "/old?echo_format=json"))
    assert response.http_version == "HTTP/2"
    assert response.json()["http_version"] == "2"
