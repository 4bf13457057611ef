"""compose.yaml under podman-compose: the dev service reloads on a source edit, the image service serves."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import httpx
import pytest

from tests.container.conftest import PREFIX, READY_TIMEOUT_S, tool, wait_until_healthy
from tests.container.podman import ROOT, Podman
from tests.servers import free_port

pytestmark = pytest.mark.container

#: What compose needs from the tree; the test edits this copy, never the repository.
TREE = ("compose.yaml", "Dockerfile", ".dockerignore", "requirements.txt", "app")
PROBE = """

# Added by tests/container/test_compose.py to see --reload pick up an edit.
from starlette.responses import PlainTextResponse as _Probe  # noqa: E402
from starlette.routing import Route as _Route  # noqa: E402


async def _reload_probe(request: object) -> _Probe:
    return _Probe("reloaded\\n")


app.router.routes.insert(0, _Route("/_reload_probe", _reload_probe))
"""


def copy_tree(destination: Path) -> Path:
    """Copy what compose needs into ``destination``, readable by the image's non-root user."""
    destination.mkdir()
    for name in TREE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    # The bind mount is read by uid 10001; pytest's temporary directories are private to root.
    for path in [destination, *destination.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return destination


async def test_compose_up_echo_reload_and_down(podman: Podman, image: str, tmp_path: Path) -> None:
    tree = copy_tree(tmp_path / "tree")
    dev_port, image_port = free_port(), free_port()
    project = f"{PREFIX}-compose"
    compose = [tool("podman-compose"), "--project-name", project, "--file", str(tree / "compose.yaml")]
    variables = {"ASGI_ECHO_IMAGE": image, "ECHO_DEV_PORT": str(dev_port), "ECHO_IMAGE_PORT": str(image_port)}
    try:
        await podman.exec([*compose, "up", "--detach", "--no-build"], extra_env=variables, timeout_s=120)
        for port in (dev_port, image_port):
            await wait_until_healthy(f"http://127.0.0.1:{port}")
        async with httpx.AsyncClient(timeout=5) as client:
            for port in (dev_port, image_port):
                answer = await client.post(f"http://127.0.0.1:{port}/compose", content=b"hi")
                assert answer.text.startswith("METHOD: POST\nTARGET: /compose\n"), port
            assert (await client.get(f"http://127.0.0.1:{dev_port}/_reload_probe")).text.startswith("METHOD: GET")

            with (tree / "app" / "main.py").open("a") as main:
                main.write(PROBE)
            assert await poll_text(client, f"http://127.0.0.1:{dev_port}/_reload_probe") == "reloaded\n"
            # The image service runs the code baked into the image: the edit does not reach it.
            answer = await client.get(f"http://127.0.0.1:{image_port}/_reload_probe")
            assert answer.text.startswith("METHOD: GET\nTARGET: /_reload_probe\n")
    finally:
        await podman.exec([*compose, "down", "--timeout", "2"], extra_env=variables, timeout_s=120, check=False)
    left = await podman.run("ps", "--all", "--quiet", "--filter", f"label=io.podman.compose.project={project}")
    assert left.stdout.strip() == ""


async def poll_text(client: httpx.AsyncClient, url: str) -> str:
    """The body ``url`` answers once it stops being an echo (the reloaded route), or the last echo on timeout."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    text = ""
    while time.monotonic() < deadline:
        try:
            text = (await client.get(url)).text
            if not text.startswith("METHOD:"):
                return text
        except httpx.TransportError:
            pass  # the server restarts under --reload
        await asyncio.sleep(0.3)
    return text
