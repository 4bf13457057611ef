"""The image serving HTTPS (and HTTP/2 by ALPN) from a mounted certificate named in ``UVICORN_SSL_*`` variables."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
import trustme

from tests.container.conftest import HARDENED, PREFIX, wait_until_healthy
from tests.container.podman import Podman
from tests.servers import free_port

pytestmark = pytest.mark.container


def write_certificate(directory: Path) -> ssl.SSLContext:
    """Write a trustme certificate for 127.0.0.1 readable by the image's user; return a client context trusting it."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.cert_chain_pems[0].write_to_path(str(directory / "server.pem"))
    cert.private_key_pem.write_to_path(str(directory / "server.key"))
    directory.chmod(0o755)
    for path in directory.iterdir():
        path.chmod(0o644)  # the image runs as uid 10001, not as the owner of these files
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_image_serves_h2_and_http11_over_tls_with_a_mounted_certificate(
    podman: Podman, image: str, tmp_path: Path
) -> None:
    context = write_certificate(tmp_path)
    name, port = f"{PREFIX}-tls", free_port()
    env = {
        "UVICORN_SSL_CERTFILE": "/certs/server.pem",
        "UVICORN_SSL_KEYFILE": "/certs/server.key",
        "UVICORN_HTTP": "app.server.http2_protocol:EchoAutoZttpProtocol",
    }
    env_args = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    mount = f"{tmp_path}:/certs:ro"
    await podman.run(
        "run", "-d", "--name", name, *HARDENED, "-v", mount, *env_args, "-p", f"127.0.0.1:{port}:5000", image
    )
    try:
        url = f"https://127.0.0.1:{port}"
        await wait_until_healthy(url, podman, name, verify=context)
        async with httpx.AsyncClient(http2=True, verify=context, timeout=10) as client:
            h2 = await client.post(f"{url}/tls?echo_format=json", content=b"over h2")
            h2_get = await client.get(f"{url}/tls?echo_format=json")  # no content: the mended HTTP/2 case
        assert h2_get.json()["method"] == "GET"
        async with httpx.AsyncClient(verify=context, timeout=10) as client:
            h1 = await client.get(f"{url}/tls?echo_format=json")
        assert h2.http_version == "HTTP/2"
        assert (h2.json()["http_version"], h2.json()["scheme"], h2.json()["body"]["value"]) == ("2", "https", "over h2")
        assert h1.http_version == "HTTP/1.1"
        assert (h1.json()["http_version"], h1.json()["scheme"]) == ("1.1", "https")
        healthcheck = await podman.run("healthcheck", "run", name, check=False)
        assert healthcheck.returncode == 0, healthcheck  # the HEALTHCHECK switches to https with the certificate
    finally:
        await podman.run("rm", "--force", "--time", "0", name, check=False)
