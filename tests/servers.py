"""Starting the server as a subprocess on a free loopback port: ``python -m app``, the README's first command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.server.defaults import as_flags

ROOT = Path(__file__).resolve().parent.parent
#: ``python -m app``'s defaults as flags, for ``uvicorn app.main:app`` command lines (the benchmark's).
DOCUMENTED_OPTIONS = as_flags()
START_TIMEOUT_S = 15.0
FORBIDDEN_LOG_WORDS = ("ERROR", "Traceback")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RunningServer:
    """One uvicorn subprocess; its merged stdout/stderr is collected line by line in ``log``."""

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
        self.port = free_port() if port is None else port
        self.options = extra_options
        entry = ["uvicorn", "app.main:app"] if plain else ["app"]
        command = [sys.executable, "-m", *entry, "--port", str(self.port), *self.options]
        self.log: list[str] = []
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()
        self._wait_until_listening()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line.rstrip("\n"))

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"uvicorn exited with {self.process.returncode}: {self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"uvicorn did not listen on port {self.port} within {START_TIMEOUT_S} s: {self.log}")

    @contextmanager
    def clean_log(self) -> Iterator[None]:
        """Fail when the server writes ERROR or a traceback while the block runs."""
        start = len(self.log)
        yield
        time.sleep(0.05)  # let the reader thread catch up with the last lines
        bad = [line for line in self.log[start:] if any(word in line for word in FORBIDDEN_LOG_WORDS)]
        assert not bad, f"server output holds errors: {bad}"
        assert self.process.poll() is None, f"server died with {self.process.returncode}"

    def stop(self) -> int:
        """Stop the server by its PID (SIGTERM, then SIGKILL after 10 s); returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


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
