"""Starting servers as subprocesses on free loopback ports, for the tests and the benchmark alike: ``ServerProcess``
for any command, ``RunningServer`` for ``python -m app`` (the README's first command)."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from app.server.defaults import as_flags

ROOT = Path(__file__).resolve().parent.parent
#: ``python -m app``'s defaults as flags, for ``uvicorn app.main:app`` command lines (the benchmark's).
DOCUMENTED_OPTIONS = as_flags()
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
FORBIDDEN_LOG_WORDS = ("ERROR", "Traceback")


def _die_with_parent() -> None:
    # A server outlives nothing: if the benchmark is killed, the kernel sends SIGTERM to its servers.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """A server subprocess on a loopback port, shared by the tests and the benchmark: started from ``argv``
    (``{port}`` filled in), its output kept line by line in ``log``, stopped by its PID."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        cwd: Path = ROOT,
        port: int | None = None,
        keep_stdout: bool = True,
        keep_stderr: bool = True,
        die_with_parent: bool = False,
        start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        """Start and wait until the port accepts. ``keep_stdout=False`` sends stdout (an access log under
        load) to /dev/null and keeps stderr, ``keep_stderr=False`` sends stderr there too (a peer that logs
        every request there); ``die_with_parent`` has the kernel stop it if we die.

        Raises:
            RuntimeError: the process exited or did not listen within ``start_timeout_s``.
        """
        self.port = free_port() if port is None else port
        self.log: list[str] = []
        self.process = subprocess.Popen(
            [arg.format(port=self.port) for arg in argv],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if keep_stdout else subprocess.DEVNULL,
            stderr=(subprocess.STDOUT if keep_stdout else subprocess.PIPE) if keep_stderr else subprocess.DEVNULL,
            text=True,
            errors="replace",
            preexec_fn=_die_with_parent if die_with_parent else None,  # no other thread runs while servers start
        )
        self._output = self.process.stdout if keep_stdout else self.process.stderr
        self._reader = threading.Thread(target=self._collect, daemon=True)
        if self._output is not None:
            self._reader.start()
        self._wait_until_listening(start_timeout_s)

    @property
    def pid(self) -> int:
        """The server's PID (``taskset`` execs the command, so it is the server itself)."""
        return self.process.pid

    def _collect(self) -> None:
        assert self._output is not None
        for line in self._output:
            self.log.append(line.rstrip("\n"))

    def _wait_until_listening(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"the server exited with {self.process.returncode}: {self.log[-15:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not listen on port {self.port} within {timeout_s} s: {self.log[-15:]}")

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def log_errors(self, start: int = 0) -> list[str]:
        """Lines of output from line ``start`` on that show an error or a traceback."""
        time.sleep(0.05)  # let the reader thread catch up with the last lines
        return [line for line in self.log[start:] if any(word in line for word in FORBIDDEN_LOG_WORDS)]

    @contextmanager
    def clean_log(self) -> Iterator[None]:
        """Fail when the server writes ERROR or a traceback while the block runs."""
        start = len(self.log)
        yield
        bad = self.log_errors(start)
        assert not bad, f"server output holds errors: {bad}"
        assert self.alive(), f"server died with {self.process.returncode}"

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """Stop the server by its PID (SIGTERM, then SIGKILL after ``timeout_s``); returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._reader.is_alive():
            self._reader.join(timeout=5)
        if self._output is not None:
            self._output.close()
        return self.process.returncode


class RunningServer(ServerProcess):
    """asgi-echo as the README's first command runs it: ``python -m app`` on a free loopback port."""

    def __init__(
        self,
        extra_options: tuple[str, ...],
        env: dict[str, str] | None = None,
        *,
        plain: bool = False,
        port: int | None = None,
    ) -> None:
        """``python -m app --port PORT EXTRA...``; with ``plain``, ``uvicorn app.main:app --port PORT EXTRA...``
        (uvicorn's own defaults: what a user who skips the README runs). ``port`` defaults to a free one."""
        self.options = extra_options
        entry = ["uvicorn", "app.main:app"] if plain else ["app"]
        argv = [sys.executable, "-m", *entry, "--port", "{port}", *self.options]
        super().__init__(argv, {**os.environ, **(env or {})}, port=port)


class ServerPool:
    """Servers shared across tests, keyed by their extra options and environment."""

    def __init__(self) -> None:
        self._servers: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...], bool], RunningServer] = {}

    def get(
        self, extra_options: tuple[str, ...], env: dict[str, str] | None = None, *, plain: bool = False
    ) -> RunningServer:
        key = (extra_options, tuple(sorted((env or {}).items())), plain)
        if key not in self._servers:
            self._servers[key] = RunningServer(extra_options, env, plain=plain)
        return self._servers[key]

    def stop_all(self) -> None:
        for running in self._servers.values():
            running.stop()
