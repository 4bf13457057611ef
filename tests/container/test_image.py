"""The image built from the real Dockerfile, run read-only, without capabilities, as CONTAINERS.md says."""

from __future__ import annotations

import asyncio
import hashlib
import time

import httpx
import pytest

from setup import COMPILED_MODULES
from tests.container.conftest import BuildTimes, StartContainer, tool
from tests.container.podman import ROOT, Podman

pytestmark = pytest.mark.container

MIB = 1024 * 1024
UID = 10001
LAYER_LIMIT_BYTES = 60 * 1000 * 1000
DELAY_MS = 2000
#: Docker's and podman's default stop timeout; the image's graceful shutdown (8 s) must fit under it.
STOP_TIMEOUT_S = 10.0


async def test_hadolint_reports_nothing_at_warning_or_above() -> None:
    process = await asyncio.create_subprocess_exec(
        tool("hadolint"), "--failure-threshold", "warning", "Dockerfile", cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stdout.decode()


async def test_echo_answers_with_a_multipart_upload_of_2_mib(start_container: StartContainer) -> None:
    container = await start_container()
    payload = bytes(range(256)) * (2 * MIB // 256)
    async with httpx.AsyncClient(base_url=container.url, timeout=10) as client:
        text = await client.post("/hello?x=1", content=b"hi")
        upload = await client.post(
            "/upload?echo_format=json", data={"title": "report"}, files={"file": ("blob.bin", payload)}
        )
    assert text.status_code == 200
    assert text.text.startswith("METHOD: POST\nTARGET: /hello?x=1\n")
    assert upload.status_code == 200
    form = upload.json()["form"]
    assert form["fields"] == {"title": ["report"]}
    assert [(f["filename"], f["size"], f["sha256"]) for f in form["files"]] == [
        ("blob.bin", 2 * MIB, hashlib.sha256(payload).hexdigest())
    ]


async def test_uvicorn_port_variable_moves_the_port_and_the_healthcheck_follows(
    podman: Podman, start_container: StartContainer
) -> None:
    container = await start_container(env={"UVICORN_PORT": "8080"}, container_port=8080)
    async with httpx.AsyncClient(base_url=container.url, timeout=5) as client:
        assert (await client.get("/moved")).text.startswith("METHOD: GET\nTARGET: /moved\n")
    healthcheck = await podman.run("healthcheck", "run", container.name, check=False)
    assert healthcheck.returncode == 0, healthcheck


async def test_appended_arguments_reach_uvicorn(podman: Podman, start_container: StartContainer) -> None:
    container = await start_container("--workers", "2")
    async with httpx.AsyncClient(base_url=container.url, timeout=5) as client:
        assert (await client.get("/")).status_code == 200
    log = (await podman.run("logs", container.name)).stderr
    # uvicorn's supervisor announces each worker it starts.
    assert log.count("Started server process") == 2, log


async def test_the_hot_path_runs_compiled_and_the_rest_as_source(
    podman: Podman, start_container: StartContainer
) -> None:
    container = await start_container()
    # Each module of setup.py's list must load from a C extension, the others from their source.
    probe = (
        "import importlib, sys; names = sys.argv[1:]; "
        "print(*(importlib.import_module('app.' + name).__file__ for name in names))"
    )
    names = [*COMPILED_MODULES, "main", "server.protocol"]
    files = (await podman.run("exec", container.name, "python", "-c", probe, *names)).stdout.split()
    assert len(files) == len(names), files
    for name, file in zip(names, files, strict=True):
        assert file.startswith("/opt/venv/lib/"), file  # the installed package, not a source tree
        assert file.endswith(".so") == (name in COMPILED_MODULES), (name, file)
    async with httpx.AsyncClient(base_url=container.url, timeout=5) as client:
        response = await client.post("/compiled?x=1", content=b"hello")
    assert response.status_code == 200
    assert response.text.endswith("\n\nBODY:\nhello")


async def test_the_server_runs_as_the_non_root_uid(podman: Podman, start_container: StartContainer) -> None:
    container = await start_container()
    processes = (await podman.run("top", container.name, "huser", "hgroup", "args")).stdout.splitlines()[1:]
    assert processes
    for line in processes:
        user, group, *_ = line.split()
        assert (user, group) == (str(UID), str(UID)), processes


async def test_stop_lets_an_in_flight_request_finish_and_exits_0_in_time(
    podman: Podman, start_container: StartContainer
) -> None:
    container = await start_container()
    async with httpx.AsyncClient(base_url=container.url, timeout=STOP_TIMEOUT_S + 5) as client:
        started = time.monotonic()
        in_flight = asyncio.create_task(client.get(f"/slow?echo_delay={DELAY_MS}"))
        await asyncio.sleep(0.5)  # the request is inside the application, waiting out its delay
        stop_started = time.monotonic()
        await podman.run("stop", container.name, timeout_s=STOP_TIMEOUT_S + 10)
        stop_s = time.monotonic() - stop_started
        response = await in_flight
    answered_s = time.monotonic() - started
    exit_code = (await podman.run("inspect", container.name, "--format", "{{.State.ExitCode}}")).stdout.strip()
    assert response.status_code == 200
    assert response.text.startswith("METHOD: GET\nTARGET: /slow?echo_delay=")
    assert answered_s >= DELAY_MS / 1000, f"answered after {answered_s:.2f} s: the delay control was ignored"
    assert exit_code == "0"
    assert stop_s < STOP_TIMEOUT_S, f"podman stop took {stop_s:.1f} s"


def test_layers_added_to_the_base_weigh_under_60_mb(
    podman: Podman, image: str, build_times: BuildTimes, capsys: pytest.CaptureFixture[str]
) -> None:
    added = podman.added_layer_bytes(image)
    with capsys.disabled():
        print(
            f"\n[image] layers added to the base: {added / 1e6:.1f} MB; build {build_times.image_s:.1f} s, "
            f"stand-in base image {build_times.base_image_s:.1f} s (0 = reused)"
        )
    assert added < LAYER_LIMIT_BYTES
