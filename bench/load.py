"""Driving a server with wrk: one bounded run per (contestant, scenario), summarised as JSON by bench/wrk.lua."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.servers import Cores

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk.lua"
CONNECTIONS = 64
TARGET = "/bench/echo?run=1"  # a path and a query, as clients send them


@dataclass(frozen=True)
class Scenario:
    """What wrk sends: a GET, or a POST of ``body_bytes``; ``accept`` is the Accept field, if any."""

    name: str
    body_bytes: int = 0
    accept: str = ""


SCENARIOS = (
    Scenario("GET text echo"),
    Scenario("GET JSON echo", accept="application/json"),
    Scenario("POST 16 KiB", body_bytes=16 * 1024),
    Scenario("POST 16 KiB JSON", body_bytes=16 * 1024, accept="application/json"),
)


@dataclass(frozen=True)
class WrkRun:
    """One wrk run: requests per second, latency percentiles (ms), and its errors."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    bad_status: int

    @property
    def errors(self) -> int:
        """Socket errors plus responses wrk counts as failed (status 400 or more)."""
        return self.socket_errors + self.bad_status


def run_wrk(base_url: str, scenario: Scenario, duration_s: int, cores: Cores) -> WrkRun:
    """Run wrk (one thread, ``CONNECTIONS`` connections) on the client core for ``duration_s`` seconds.

    Raises:
        RuntimeError: wrk failed or printed no summary; subprocess.TimeoutExpired past the bound.
    """
    argv = [
        *cores.prefix(cores.client),
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{duration_s}s",
        "--timeout",
        "5s",
        "-s",
        str(WRK_SCRIPT),
        base_url + TARGET,
    ]
    env = {**os.environ, "BENCH_BODY_BYTES": str(scenario.body_bytes), "BENCH_ACCEPT": scenario.accept}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration_s + 30, check=False)
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    seconds = result["duration_us"] / 1e6
    return WrkRun(
        requests_per_s=result["requests"] / seconds if seconds else 0.0,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        socket_errors=result["connect"] + result["read"] + result["write"] + result["timeout"],
        bad_status=result["status"],
    )
