"""The contestants: how each server is started (pinned to one core, by ``tests.servers.ServerProcess``, the launcher
the tests use too), checked and stopped by its PID."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import DOCUMENTED_OPTIONS, ServerProcess

ROOT = Path(__file__).resolve().parent.parent
#: The stock protocol: what ``--http httptools`` gives. The shipped options may later name our own
#: protocol class (``--http module:Class``); the floor then runs under both.
STOCK_OPTIONS = ("--http", "httptools", "--no-proxy-headers", "--no-access-log")
#: Image variables the benchmark does not take: the address is ours (loopback, a free port), PATH is the venv's.
SKIPPED_IMAGE_VARS = frozenset({"PATH", "UVICORN_HOST", "UVICORN_PORT"})


@dataclass(frozen=True)
class Cores:
    """Which core the servers and the load generator run on; None when nothing is pinned."""

    server: int | None
    client: int | None

    @classmethod
    def detect(cls) -> Cores:
        """Server on core 0 and client on core 1 when ``taskset`` exists and there are two cores or more."""
        if shutil.which("taskset") and len(os.sched_getaffinity(0)) >= 2:
            first, second = sorted(os.sched_getaffinity(0))[:2]
            return cls(first, second)
        return cls(None, None)

    def prefix(self, core: int | None) -> list[str]:
        """``taskset -c CORE`` to put before a command, or nothing."""
        return [] if core is None else ["taskset", "-c", str(core)]


def image_env(dockerfile: Path = ROOT / "Dockerfile") -> dict[str, str]:
    """The ``ENV`` defaults of the image's final stage (``PYTHONUNBUFFERED``, ``UVICORN_*``, ...).

    Read from the Dockerfile so the benchmark runs with what users run; PATH, host and port are left out.
    """
    text = dockerfile.read_text().replace("\\\n", " ")
    final_stage = text.rsplit("\nFROM ", 1)[-1]
    env: dict[str, str] = {}
    for line in final_stage.splitlines():
        if line.startswith("ENV "):
            for word in shlex.split(line[4:]):
                name, _, value = word.partition("=")
                if name not in SKIPPED_IMAGE_VARS:
                    env[name] = value
    return env


def base_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without ``ECHO_*``, then the image's ``ENV`` defaults, then ``extra``."""
    # Our own ECHO_* variables from the caller's shell would make "default settings" a lie.
    env = {name: value for name, value in os.environ.items() if not name.startswith("ECHO_")}
    return {**env, **image_env(), **extra}


@dataclass
class Server:
    """A contestant: how to start it (``argv`` with ``{port}``, extra variables), and its process once started."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    stdout_to_null: bool = True
    stderr_to_null: bool = False
    #: Where its echo lives: ``/anything`` for go-httpbin, nothing for the servers that echo every path.
    path_prefix: str = ""
    running: ServerProcess | None = None
    workdir: Path | None = None

    @property
    def pid(self) -> int:
        """The server's PID."""
        assert self.running is not None
        return self.running.pid

    @property
    def port(self) -> int:
        """The loopback port it listens on."""
        assert self.running is not None
        return self.running.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` and the path prefix of its echo."""
        return f"http://127.0.0.1:{self.port}{self.path_prefix}"

    def start(self, cores: Cores) -> None:
        """Start pinned to the server core, in an empty working directory (no stray ``.env`` is read).

        Raises:
            RuntimeError: the server exited or did not listen in time.
        """
        self.workdir = Path(tempfile.mkdtemp(prefix="asgi-echo-bench-"))
        argv = [*cores.prefix(cores.server), *self.argv]
        self.running = ServerProcess(
            argv,
            base_env(self.env),
            cwd=self.workdir,
            keep_stdout=not self.stdout_to_null,
            keep_stderr=not self.stderr_to_null,
            die_with_parent=True,
        )

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the server's output."""
        return "" if self.running is None else "\n".join(self.running.log[-lines:])

    def log_errors(self) -> list[str]:
        """Lines of output that show an error or a traceback."""
        return [] if self.running is None else self.running.log_errors()

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.running is not None and self.running.alive()

    def stop(self) -> None:
        """SIGTERM by PID, SIGKILL after 10 s; removes the working directory."""
        if self.running is not None:
            self.running.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def uvicorn(
    name: str,
    target: str,
    options: tuple[str, ...],
    env: dict[str, str] | None = None,
    project: Path = ROOT,
    python: Path | str = sys.executable,
) -> Server:
    """A one-worker uvicorn serving ``target`` (``module:attr``) from ``project`` (a copy of the repository,
    such as a shipped build from ``bench.shipped``; default: the checkout) with ``options``, run by ``python``
    (default: this interpreter; another venv's for an earlier revision on its own pins)."""
    command = [str(python), "-m", "uvicorn", target, "--app-dir", str(project), "--host", "127.0.0.1"]
    return Server(name, [*command, "--port", "{port}", *options], env or {})


def asgi_echo(name: str, project: Path, env: dict[str, str] | None = None) -> Server:
    """asgi-echo as shipped: ``uvicorn app.main:app`` from ``project`` with the README's options and the
    image's variables."""
    return uvicorn(name, "app.main:app", DOCUMENTED_OPTIONS, env, project)


def bare_ceiling(name: str) -> Server:
    """``bench/ceiling.py``: ``ok`` for every request with no ASGI stack, to find what wrk can drive at most."""
    return Server(name, [sys.executable, str(ROOT / "bench" / "ceiling.py"), "--port", "{port}"])


def gunicorn_flask(name: str) -> Server:
    """The Flask echo under gunicorn: one sync worker, the tutorial's deployment."""
    argv = [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), "--workers", "1", "--worker-class", "sync"]
    return Server(name, [*argv, "--bind", "127.0.0.1:{port}", "bench.flask_echo:app"])
