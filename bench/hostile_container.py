"""``bench/hostile.py --container``: the worst cases of checks 3, 10 and 11 against the image run as the
manifest limits it (``podman run --memory`` at deploy/kubernetes/deployment.yaml's limit): no OOM kill, the
container's peak memory reported. podman is driven as /work/shared/CONTAINERS.md says (tests.container.podman)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

import yaml

from bench.bodies import MIB
from bench.hostile_memory import BUDGET_BYTES, RENDER_LIMIT_S, bomb_clients, render_wave
from bench.hostile_support import GET, Row, mib, request
from tests.container.podman import ROOT, Podman
from tests.servers import free_port

MANIFEST = ROOT / "deploy" / "kubernetes" / "deployment.yaml"
IMAGE = "localhost/asgi-echo-hostile:bench"
#: cgroup v2, then v1: the container's own peak, read inside it.
PEAK_FILES = ("/sys/fs/cgroup/memory.peak", "/sys/fs/cgroup/memory/memory.max_usage_in_bytes")
UPLOADS = 30  # 10 MiB each at once: past the budget, the excess 503


def manifest_memory_limit() -> str:
    """The echo container's memory limit in the manifest (``512Mi``)."""
    for document in yaml.safe_load_all(MANIFEST.read_text()):
        if document and document.get("kind") == "Deployment":
            container = document["spec"]["template"]["spec"]["containers"][0]
            return str(container["resources"]["limits"]["memory"])
    raise RuntimeError(f"no Deployment in {MANIFEST}")


def _podman_memory(limit: str) -> str:
    return limit.removesuffix("i").lower()  # 512Mi -> 512m (podman's binary units)


async def _uploads(port: int, count: int) -> list[int]:
    raw = f"POST /hostile/upload HTTP/1.1\r\nHost: bench\r\nContent-Length: {10 * MIB}\r\n\r\n".encode()
    raw += b"u" * (10 * MIB)
    responses = await asyncio.gather(
        *(request(port, raw, RENDER_LIMIT_S) for _ in range(count)), return_exceptions=True
    )
    return [r.status if not isinstance(r, BaseException) else 0 for r in responses]


def _wait_healthy(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if asyncio.run(request(port, GET, 2.0)).status == 200:
                return
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the container did not answer on 127.0.0.1:{port} within {timeout_s:.0f} s")


def _state(podman: Podman, name: str) -> tuple[bool, bool, int]:
    """``(oom_killed, running, exit code)`` of the container."""
    fields = podman.check("inspect", "--format", "{{.State.OOMKilled}} {{.State.Running}} {{.State.ExitCode}}", name)
    oom, running, code = fields.split()
    return oom == "true", running == "true", int(code)


def _peak_bytes(podman: Podman, name: str) -> int | None:
    for path in PEAK_FILES:
        try:
            return int(podman.check("exec", name, "cat", path).strip())
        except (RuntimeError, ValueError):
            continue
    return None


def container_checks(build: bool = True) -> list[Row]:
    """Build the image (unless ``build`` is False and it exists), run it at the manifest's memory limit, and send
    the worst cases: 30 uploads of 10 MiB, rendering bombs, WebSocket compression bombs from 10 clients."""
    name = "C container at the manifest's limit"
    limit = manifest_memory_limit()
    with tempfile.TemporaryDirectory(prefix="hostile-podman-") as directory:
        podman = Podman.configured_in(Path(directory))
        if build or not podman.image_exists(IMAGE):
            podman.build_image(IMAGE)
        container = f"asgi-echo-hostile-{os.getpid()}"
        port = free_port()
        podman.check(
            "run", "-d", "--name", container, "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--memory", _podman_memory(limit),
            "--memory-swap", _podman_memory(limit), "-p", f"127.0.0.1:{port}:5000", IMAGE,
        )  # fmt: skip
        try:
            _wait_healthy(port)
            started = time.monotonic()
            uploads = asyncio.run(_uploads(port, UPLOADS))
            renders = asyncio.run(render_wave(port, 2))
            sent = asyncio.run(bomb_clients(port, 10, 16, 5.0))
            elapsed_s = time.monotonic() - started
            time.sleep(1.0)
            oom, running, code = _state(podman, container)
            peak = _peak_bytes(podman, container)
            alive = running and asyncio.run(request(port, GET, 5.0)).status == 200
        finally:
            podman.check("rm", "--force", container)
    render_statuses = [r if isinstance(r, int) else 0 for r in renders]
    peak_text = "unreadable" if peak is None else mib(peak)
    return [
        Row(name, f"podman run --memory={_podman_memory(limit)} (the manifest's {limit}), ECHO_MAX_INFLIGHT_BYTES "
                  f"{mib(BUDGET_BYTES)}: {UPLOADS} uploads of 10 MiB at once, 2 of each rendering bomb, 10 WebSocket "
                  "clients sending 16 compression bombs each: no OOM kill",
            f"{elapsed_s:.0f} s; OOM killed: {oom}; running: {running} (exit {code}); peak memory {peak_text}",
            not oom and running),
        Row(name, "uploads and renderings answered 200 or 503",
            f"uploads 200: {uploads.count(200)}, 503: {uploads.count(503)}; renderings 200: "
            f"{render_statuses.count(200)}, 503: {render_statuses.count(503)}; {mib(sent)} of bombs sent",
            set(uploads) <= {200, 503} and set(render_statuses) <= {200, 503}),
        Row(name, "a normal GET afterwards: 200", "200" if alive else "no answer", alive),
    ]  # fmt: skip
