"""Instructions per request, counted by valgrind's callgrind: a figure that does not move with the machine's load.

``python -m bench.instructions [--project DIR] [KIND ...]`` serves KIND requests (``get``: the text echo,
``json``: the JSON echo, ``post``: 16 KiB of content) through the shipped app and protocol in one process,
with a fake transport and the access log off, once with ``SMALL`` requests and once with ``LARGE``; the
difference over ``LARGE - SMALL`` is what one request costs, start-up and warm-up cancelled out. Wall-clock
benchmarks on a shared 2-core machine swing by ±10%; two builds compared this way differ by their code only.
``DIR`` is a project copy, such as a shipped build (``python -m bench.shipped DIR``); default: the checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/instructions.py` from anywhere

from bench.servers import base_env
from tests.servers import DOCUMENTED_OPTIONS, ServerProcess

ROOT = Path(__file__).resolve().parent.parent
SMALL, LARGE = 200, 1200
#: The shipped protocol; an earlier revision may name another (``app.protocol:EchoHttpToolsProtocol``).
PROTOCOL = "app.server.protocol:EchoHttpToolsProtocol"
REQUESTS = {
    "get": b"GET /bench/echo?run=1 HTTP/1.1\r\nHost: bench\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n",
    "json": b"GET /bench/echo?run=1 HTTP/1.1\r\nHost: bench\r\nUser-Agent: wrk\r\nAccept: application/json\r\n\r\n",
    "post": (
        b"POST /bench/echo?run=1 HTTP/1.1\r\nHost: bench\r\nUser-Agent: wrk\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Length: 16384\r\n\r\n" + b"a" * 16384
    ),
    "post_json": (
        b"POST /bench/echo?run=1 HTTP/1.1\r\nHost: bench\r\nUser-Agent: wrk\r\nAccept: application/json\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Length: 16384\r\n\r\n" + b"a" * 16384
    ),
}
SERVER_START_S, SERVER_STOP_S = 120.0, 120.0  # Python under valgrind starts and stops some 50 times slower
_COLLECTED = re.compile(r"Collected : (\d+)")


async def _serve(request: bytes, count: int, protocol_name: str) -> None:
    """Feed ``count`` copies of ``request`` to one protocol instance, letting each run to its end."""
    from uvicorn.config import Config
    from uvicorn.importer import import_from_string
    from uvicorn.server import ServerState

    from app.main import app
    from tests.fake_transport import FakeTransport

    protocol_class = import_from_string(protocol_name)
    config = Config(app=app, http=protocol_class, lifespan="off", proxy_headers=False, log_level="warning")
    config.load()
    protocol = protocol_class(config, ServerState(), {}, _loop=asyncio.get_running_loop())
    protocol.connection_made(FakeTransport())
    for _ in range(count):
        protocol.data_received(request)
        for _ in range(4):  # let the request's task run to its end
            await asyncio.sleep(0)
    protocol.connection_lost(None)


def count_instructions(project: Path, kind: str, requests: int, protocol: str = PROTOCOL) -> int:
    """Instructions callgrind counts for one process serving ``requests`` of ``kind`` from ``project``."""
    with tempfile.TemporaryDirectory(prefix="asgi-echo-ir-") as scratch:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={scratch}/callgrind.out",
            sys.executable,
            "-m",
            "bench.instructions",
            "--protocol",
            protocol,
            "--drive",
            kind,
            str(requests),
        ]
        env = {**os.environ, "ECHO_ACCESS_LOG": "false", "PYTHONHASHSEED": "0", "PYTHONPATH": str(project)}
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind run failed ({done.returncode}): {done.stderr[-2000:]}")
    return int(found.group(1))


def served_instructions(project: Path, kind: str, requests: int, python: str, options: Sequence[str]) -> int:
    """Instructions callgrind counts for a real server (``uvicorn app.main:app`` from ``project`` with
    ``options`` and the image's variables, access log off) answering ``requests`` of ``kind`` on one
    keep-alive loopback connection, from its start to its graceful stop."""
    with tempfile.TemporaryDirectory(prefix="asgi-echo-ir-") as scratch:
        command = [
            *("valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/callgrind.out"),
            *(python, "-m", "uvicorn", "app.main:app", "--app-dir", str(project), "--host", "127.0.0.1"),
            *("--port", "{port}", *options),
        ]
        env = base_env({"ECHO_ACCESS_LOG": "false", "PYTHONHASHSEED": "0"})
        server = ServerProcess(command, env, cwd=project, keep_stdout=False, start_timeout_s=SERVER_START_S)
        try:
            _send(server.port, REQUESTS[kind], requests)
        finally:
            server.stop(timeout_s=SERVER_STOP_S)
    found = next((_COLLECTED.search(line) for line in reversed(server.log) if _COLLECTED.search(line)), None)
    if found is None:
        raise RuntimeError(f"the server under callgrind gave no count: {server.log[-20:]}")
    return int(found.group(1))


def _send(port: int, request: bytes, count: int) -> None:
    """Send ``request`` ``count`` times on one connection, each after the previous answer is read whole."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        reader = connection.makefile("rb")
        for _ in range(count):
            connection.sendall(request)
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            reader.read(length)


def per_request(project: Path, kind: str, protocol: str = PROTOCOL) -> float:
    """Instructions for one request of ``kind``: the difference between a large and a small run."""
    large = count_instructions(project, kind, LARGE, protocol)
    return (large - count_instructions(project, kind, SMALL, protocol)) / (LARGE - SMALL)


def main(argv: list[str] | None = None) -> int:
    """Print instructions per request for each kind asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("kinds", nargs="*", help=f"any of {', '.join(REQUESTS)} (default: all)")
    parser.add_argument("--project", type=Path, default=ROOT, help="a project copy (default: the checkout)")
    parser.add_argument("--protocol", default=PROTOCOL, help=f"the protocol class (default: {PROTOCOL})")
    parser.add_argument(
        "--served",
        action="store_true",
        help="count a real server over loopback (start, requests, graceful stop) instead of the in-process drive",
    )
    parser.add_argument("--python", default=sys.executable, help="the interpreter that serves (--served)")
    parser.add_argument("--options", help="uvicorn's options for --served, one string (default: the documented ones)")
    parser.add_argument("--drive", nargs=2, metavar=("KIND", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive:  # the process valgrind watches
        import uvloop

        uvloop.run(_serve(REQUESTS[args.drive[0]], int(args.drive[1]), args.protocol))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    unknown = set(args.kinds) - set(REQUESTS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    project: Path = args.project.resolve()
    for kind in args.kinds or list(REQUESTS):
        if args.served:
            options = args.options.split() if args.options else DOCUMENTED_OPTIONS
            large = served_instructions(project, kind, LARGE, args.python, options)
            count = (large - served_instructions(project, kind, SMALL, args.python, options)) / (LARGE - SMALL)
        else:
            count = per_request(project, kind, args.protocol)
        print(f"{kind}: {count / 1000:.1f}k instructions per request", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
