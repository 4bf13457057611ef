"""Driving podman on this kind of machine: tools, the required containers.conf, the base image, the app image.

The settings follow ../shared/CONTAINERS.md: runc instead of crun, cgroupfs, capped ulimits, and a local
stand-in for ``python:3.12-slim`` made with debootstrap from the mirror the machine's apt sources name.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "docker.io/library/python:3.12-slim"
#: Bumped when the stand-in changes, so a machine's older stand-in is made again (2: Python's headers).
STAND_IN_LABEL = "asgi-echo.stand-in"
STAND_IN_VERSION = "2"
#: catatonit is the pause process `podman kube play` needs (a Recommends of podman, so named here).
APT_PACKAGES = ("podman", "buildah", "runc", "uidmap", "fuse-overlayfs", "slirp4netns", "debootstrap", "catatonit")
REQUIRED_COMMANDS = (
    "podman",
    "buildah",
    "runc",
    "newuidmap",
    "fuse-overlayfs",
    "slirp4netns",
    "debootstrap",
    "catatonit",
)
APT_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""
#: Every command is bounded; builds, apt-get and debootstrap get the longer limit.
COMMAND_TIMEOUT_S = 60.0
BUILD_TIMEOUT_S = 600.0


class CommandError(RuntimeError):
    """A command exited non-zero or ran past its time limit; the message holds its output."""


def why_unavailable() -> str | None:
    """Why the container tests cannot run here (None when they can): they need root and apt-get."""
    if os.geteuid() != 0:
        return "container tests need root (podman as root, apt-get install)"
    if shutil.which("apt-get") is None and not all(shutil.which(c) for c in REQUIRED_COMMANDS):
        return "container tests need apt-get to install podman, buildah, runc and debootstrap"
    return None


def install_tools() -> None:
    """Install the Debian packages podman needs here (CONTAINERS.md), unless every command is present."""
    if all(shutil.which(command) for command in REQUIRED_COMMANDS):
        return
    apt = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
    _check([*apt, "update", "-qq"], BUILD_TIMEOUT_S)
    _check([*apt, "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES], BUILD_TIMEOUT_S)


def debian_mirror(sources: Path = APT_SOURCES) -> str:
    """The first ``URIs:`` of the deb822 stanza that serves the ``bookworm`` suite.

    Raises:
        LookupError: no stanza names both a URI and the bookworm suite.
    """
    for stanza in re.split(r"\n\s*\n", sources.read_text()):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if re.match(r"^[A-Za-z][\w-]*:", line):
                name, value = line.split(":", 1)
                fields[name.lower()] = value.strip()
        if "uris" in fields and "bookworm" in fields.get("suites", "").split():
            return fields["uris"].split()[0]
    raise LookupError(f"no bookworm mirror in {sources}")


def _check(args: Sequence[str], timeout_s: float, env: Mapping[str, str] | None = None) -> str:
    try:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout_s, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CommandError(f"{' '.join(args)} ran past {timeout_s} s") from exc
    if done.returncode != 0:
        raise CommandError(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass(frozen=True)
class Result:
    """A finished command: exit code and decoded output."""

    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Podman:
    """podman (and tools that call it) with ``CONTAINERS_CONF`` pointing at the required settings."""

    conf: Path

    @classmethod
    def configured_in(cls, directory: Path) -> Podman:
        """Write the required containers.conf into ``directory`` and return a driver that uses it."""
        conf = directory / "containers.conf"
        conf.write_text(CONTAINERS_CONF)
        return cls(conf)

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The process environment for podman: ours plus ``CONTAINERS_CONF`` and ``extra``."""
        return {**os.environ, "CONTAINERS_CONF": str(self.conf), **(extra or {})}

    # Synchronous calls, for session fixtures.

    def check(self, *args: str, timeout_s: float = COMMAND_TIMEOUT_S) -> str:
        """Run ``podman ARGS``; return stdout, raise ``CommandError`` on failure or timeout."""
        return _check(["podman", *args], timeout_s, self.env())

    def image_exists(self, name: str) -> bool:
        """Whether podman holds an image called ``name``."""
        done = subprocess.run(["podman", "image", "exists", name], env=self.env(), timeout=30, check=False)
        return done.returncode == 0

    def build_base_image(self, workdir: Path) -> bool:
        """Make the stand-in ``python:3.12-slim`` with debootstrap unless it exists; True when it was built.

        Like the official image where a Dockerfile relies on it: ``python`` and ``pip`` on PATH and pip
        allowed to install. It holds Debian's Python 3.11, not 3.12.
        """
        if self.image_exists(BASE_IMAGE):
            if self._stand_in_version() == STAND_IN_VERSION:
                return False
            self.check("rmi", "--force", BASE_IMAGE)  # made by an older version of this method
        rootfs = workdir / "rootfs"
        # python3-dev: the official image has Python's headers, which mypyc's build needs (setup.py).
        include = "--include=python3,python3-pip,python3-venv,python3-dev,ca-certificates"
        _check(["debootstrap", "--variant=minbase", include, "bookworm", str(rootfs), debian_mirror()], BUILD_TIMEOUT_S)
        for name, target in (("python", "/usr/bin/python3"), ("pip", "/usr/bin/pip3")):
            (rootfs / "usr/local/bin" / name).symlink_to(target)
        for marker in rootfs.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
            marker.unlink()
        archive = workdir / "rootfs.tar"
        _check(["tar", "-C", str(rootfs), "-cf", str(archive), "."], BUILD_TIMEOUT_S)
        shutil.rmtree(rootfs)
        label = f"LABEL {STAND_IN_LABEL}={STAND_IN_VERSION}"
        self.check(
            "import", "--change", 'CMD ["python3"]', "--change", label, str(archive), BASE_IMAGE,
            timeout_s=BUILD_TIMEOUT_S,
        )  # fmt: skip
        archive.unlink()
        return True

    def _stand_in_version(self) -> str:
        labels = json.loads(self.check("image", "inspect", "--format", "{{json .Labels}}", BASE_IMAGE)) or {}
        return str(labels.get(STAND_IN_LABEL, ""))

    def build_image(self, tag: str, context: Path = ROOT) -> None:
        """Build ``context``'s Dockerfile as ``tag`` the way CONTAINERS.md says (no pull, CA bundle mounted)."""
        self.check(
            "build", "--pull=never", "--format", "docker", "--network", "host",
            "-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro", "-t", tag, str(context),
            timeout_s=BUILD_TIMEOUT_S,
        )  # fmt: skip

    def added_layer_bytes(self, image: str, base: str = BASE_IMAGE) -> int:
        """Bytes of the layers ``image`` adds on top of ``base``, uncompressed, from ``podman history``."""
        sizes = self._history_sizes(image)
        # History lists the newest entry first; the base's entries are the oldest ones.
        return sum(sizes[: len(sizes) - len(self._history_sizes(base))])

    def _history_sizes(self, image: str) -> list[int]:
        return [int(entry["size"]) for entry in json.loads(self.check("history", "--format", "json", image))]

    # Asynchronous calls, for tests.

    async def run(self, *args: str, timeout_s: float = COMMAND_TIMEOUT_S, check: bool = True) -> Result:
        """Run ``podman ARGS``; raise ``CommandError`` on timeout, or on a non-zero exit when ``check``."""
        return await self.exec(["podman", *args], timeout_s=timeout_s, check=check)

    async def exec(
        self,
        args: Sequence[str],
        *,
        timeout_s: float = COMMAND_TIMEOUT_S,
        check: bool = True,
        extra_env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Result:
        """Run any command (podman, podman-compose) with podman's environment, bounded by ``timeout_s``."""
        process = await asyncio.create_subprocess_exec(
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env(extra_env),
            cwd=cwd,
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise CommandError(f"{' '.join(args)} ran past {timeout_s} s") from None
        result = Result(process.returncode or 0, stdout.decode(errors="replace"), stderr.decode(errors="replace"))
        if check and result.returncode != 0:
            raise CommandError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result
