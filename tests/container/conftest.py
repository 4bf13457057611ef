"""Fixtures for the image tests: podman set up as CONTAINERS.md says, the image built once per session.

They skip only where they cannot run at all (not root, no apt-get); CI runs as root and fails on any skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.container.podman import Podman, install_tools, why_unavailable
from tests.servers import free_port

#: Names of everything the tests create start with this, so cleanup removes exactly what they made.
PREFIX = f"asgi-echo-test-{os.getpid()}"
IMAGE = f"localhost/{PREFIX}:latest"
READY_TIMEOUT_S = 30.0


CONTAINER_TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the image tests after the fast suite (the issue's order), so quick failures show first."""
    items.sort(key=lambda item: CONTAINER_TESTS in item.path.parents)


@dataclass
class BuildTimes:
    """Seconds taken by the session's builds; 0 for a base image that already existed."""

    base_image_s: float
    image_s: float


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    """podman with the required containers.conf, the Debian tools installed when missing."""
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    install_tools()
    return Podman.configured_in(tmp_path_factory.mktemp("podman"))


@pytest.fixture(scope="session")
def build_times(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuildTimes]:
    """Build the stand-in base image (once per machine) and the project's image (once per session).

    The image is removed at the end of the session.
    """
    started = time.monotonic()
    built = podman.build_base_image(tmp_path_factory.mktemp("base"))
    base_s = time.monotonic() - started if built else 0.0
    started = time.monotonic()
    podman.build_image(IMAGE)
    yield BuildTimes(base_image_s=base_s, image_s=time.monotonic() - started)
    podman.check("rmi", "--force", IMAGE)


@pytest.fixture(scope="session")
def image(build_times: BuildTimes) -> str:
    """The name of the image built from the project's Dockerfile."""
    return IMAGE


@dataclass(frozen=True)
class Container:
    """A running container, published on 127.0.0.1:``port``."""

    name: str
    port: int

    @property
    def url(self) -> str:
        """Base URL of the published port."""
        return f"http://127.0.0.1:{self.port}"


StartContainer = Callable[..., Awaitable[Container]]

#: The hardening the issue asks the image to survive: no writable path at all, no capability.
HARDENED = ("--read-only", "--read-only-tmpfs=false", "--cap-drop", "ALL", "--security-opt", "no-new-privileges")


@pytest.fixture
async def start_container(podman: Podman, image: str) -> AsyncIterator[StartContainer]:
    """Start hardened containers of the image, wait until they answer; remove them (by name) afterwards.

    Call as ``await start_container(*image_args, env={...}, container_port=5000)``.
    """
    names: list[str] = []

    async def start(*args: str, env: dict[str, str] | None = None, container_port: int = 5000) -> Container:
        name = f"{PREFIX}-{len(names)}"
        port = free_port()
        names.append(name)
        env_args = [item for key, value in (env or {}).items() for item in ("-e", f"{key}={value}")]
        publish = f"127.0.0.1:{port}:{container_port}"
        await podman.run("run", "-d", "--name", name, *HARDENED, *env_args, "-p", publish, image, *args)
        container = Container(name, port)
        await wait_until_healthy(container.url, podman, name)
        return container

    yield start
    for name in names:
        await podman.run("rm", "--force", "--time", "0", name, check=False)


async def wait_until_healthy(url: str, podman: Podman | None = None, name: str = "") -> None:
    """Poll ``URL/_echo/health`` until 200; on timeout fail with the container's log."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{url}/_echo/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    log = (await podman.run("logs", name, check=False)).stderr if podman and name else ""
    pytest.fail(f"{url} did not answer within {READY_TIMEOUT_S} s\n{log}")


def tool(name: str) -> str:
    """A command installed by requirements-dev.txt (next to the running Python), else from PATH."""
    found = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    assert found, f"{name} is not installed: pip install -r requirements-dev.txt"
    return found
