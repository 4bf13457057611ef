"""Hostile-input measurements: ``python bench/hostile.py`` (full, writes bench/HOSTILE.md) or ``--short`` (CI).

Starts the server as the README and the image run it (tests.servers.DOCUMENTED_OPTIONS, the image's
``--limit-concurrency 1000`` among them) on loopback, once per check, and measures what issue 6 bounds: a header
flood, slow clients, many large bodies at once, clients hanging up, load with wrk, a mixed soak, and
shutdown with requests in flight; and what issue 17 bounds: TLS phases (check 8, bench/hostile_tls.py),
HTTP/2 floods (9, bench/hostile_http2.py), rendering memory, WebSocket compression bombs and unread pongs,
hang-ups in each phase (10-12, bench/hostile_memory.py). Prints one table
(check, bound, measured, verdict) and exits 0 when every bound holds, 1 when one is broken, 2 when a check
itself could not run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/hostile.py` from anywhere

from bench.bodies import MIB
from bench.hostile_clients import client_behaviour
from bench.hostile_floods import global_ceilings, header_flood, slow_clients
from bench.hostile_http2 import http2_floods
from bench.hostile_memory import phase_hangups, render_memory, websocket_bombs
from bench.hostile_support import Row
from bench.hostile_tls import tls_phases
from bench.hostile_traffic import load, shutdown, soak
from tests.servers import DOCUMENTED_OPTIONS

RESULTS = Path(__file__).resolve().parent / "HOSTILE.md"
CONTAINER_RESULTS = Path(__file__).resolve().parent / "HOSTILE-CONTAINER.md"


@dataclass(frozen=True)
class Plan:
    """How much each check pushes: the full run, or the short one that still pushes twice each bound."""

    short: bool
    flood_bytes: int
    ceiling_clients: int
    ceiling_inflight_bytes: int
    hangups: int
    load_requests: int
    soak_s: float
    soak_warmup_s: float
    render_copies: int = 2
    bomb_frames: int = 16
    bomb_hold_s: float = 3.0
    phase_hangups: int = 500

    @classmethod
    def make(cls, short: bool) -> Plan:
        """The issue's figures, or the CI figures (40 MiB flood, 20 clients over 32 MiB, 300, 10,000, 10 s; checks
        10-12: one of each rendering bomb, 4 compression bombs from each of 10 clients, 150 hang-ups)."""
        if short:
            # A 10 s warm-up as in the full run: allocator growth settles, so a short soak is not a flake.
            return cls(True, 40 * MIB, 20, 32 * MIB, 300, 10_000, 10, 10, 1, 4, 1.0, 150)
        return cls(False, 100 * MIB, 100, 64 * MIB, 1000, 50_000, 60, 10, 2, 16, 5.0, 1000)

    def checks(self) -> list[tuple[str, Callable[[], list[Row]]]]:
        """Each check's name and the call that runs it."""
        return [
            ("1 header flood", lambda: header_flood(self.flood_bytes)),
            ("2 slow clients", slow_clients),
            ("3 global ceilings", lambda: global_ceilings(self.ceiling_clients, self.ceiling_inflight_bytes)),
            ("4 client behaviour", lambda: client_behaviour(self.hangups)),
            ("5 load", lambda: load(self.load_requests)),
            ("6 soak", lambda: soak(self.soak_s, self.soak_warmup_s)),
            ("7 shutdown", shutdown),
            ("8 TLS phases", lambda: tls_phases(300 if self.short else 3000)),
            ("9 HTTP/2 floods", http2_floods),
            ("10 rendering memory", lambda: render_memory(self.render_copies)),
            ("11 WebSocket bombs", lambda: websocket_bombs(10, self.bomb_frames, self.bomb_hold_s)),
            ("12 hang-ups per phase", lambda: phase_hangups(self.phase_hangups)),
        ]


def run(plan: Plan) -> tuple[list[Row], bool]:
    """Run every check in turn; returns the rows and whether every check could run."""
    rows: list[Row] = []
    complete = True
    for name, check in plan.checks():
        started = time.monotonic()
        print(f"-- {name} ...", file=sys.stderr, flush=True)
        try:
            rows += check()
        except Exception as exc:  # a check that cannot run is reported, and the others still run
            traceback.print_exc()
            rows.append(Row(name, "the check runs", f"{type(exc).__name__}: {exc}", False))
            complete = False
        print(f"   {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return rows, complete


def markdown_table(rows: list[Row]) -> str:
    """The rows as a Markdown table (pipes in the text escaped)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| check | bound | measured | verdict |", "| --- | --- | --- | --- |"]
    lines += [f"| {cell(r.check)} | {cell(r.bound)} | {cell(r.measured)} | {r.verdict} |" for r in rows]
    return "\n".join(lines)


def environment() -> str:
    """One line on where the figures come from."""
    return (
        f"Python {platform.python_version()}, uvicorn {version('uvicorn')}, starlette {version('starlette')}, "
        f"{os.cpu_count()} cores (shared), Linux {platform.release()}"
    )


def write_results(rows: list[Row], elapsed_s: float) -> None:
    """bench/HOSTILE.md from a full run: written here only, never edited by hand."""
    command = " ".join(("uvicorn app.main:app --port <free>", *DOCUMENTED_OPTIONS))
    broken = sum(not r.ok for r in rows)
    RESULTS.write_text(
        "# Hostile-input measurements\n\n"
        "Generated by `python bench/hostile.py` (the full run); do not edit by hand, run it again.\n\n"
        f"- when: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {elapsed_s:.0f} s\n"
        f"- where: {environment()}, loopback\n"
        f"- server: `{command}`, one fresh process per check; checks 2, 3, 4, 7 and 12 add the setting named in "
        "their bound\n"
        f"- verdict: {'every bound held' if not broken else f'{broken} bound(s) BROKEN'}\n\n"
        f"{markdown_table(rows)}\n"
    )


def write_container_results(rows: list[Row], elapsed_s: float) -> None:
    """bench/HOSTILE-CONTAINER.md from a ``--container`` run: written here only, never edited by hand."""
    broken = sum(not r.ok for r in rows)
    CONTAINER_RESULTS.write_text(
        "# Hostile-input measurements in the container\n\n"
        "Generated by `python bench/hostile.py --container`; do not edit by hand, run it again.\n\n"
        f"- when: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {elapsed_s:.0f} s\n"
        f"- where: {environment()}, loopback to a podman container (the image built from this checkout on "
        "the stand-in base of /work/shared/CONTAINERS.md: Debian's Python 3.11)\n"
        f"- verdict: {'every bound held' if not broken else f'{broken} bound(s) BROKEN'}\n\n"
        f"{markdown_table(rows)}\n"
    )


def run_container() -> int:
    """The ``--container`` run: 0 all held, 1 a bound broken, 2 it could not run."""
    from bench.hostile_container import container_checks  # needs podman and PyYAML; only this run does

    started = time.monotonic()
    try:
        rows = container_checks()
    except Exception as exc:
        traceback.print_exc()
        print(f"the container check could not run: {type(exc).__name__}: {exc}")
        return 2
    elapsed_s = time.monotonic() - started
    print(markdown_table(rows))
    write_container_results(rows, elapsed_s)
    return 1 if any(not r.ok for r in rows) else 0


def main(argv: list[str] | None = None) -> int:
    """Run the checks, print the table; 0 all held, 1 a bound broken, 2 a check could not run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the CI run: smaller, still twice each bound")
    parser.add_argument(
        "--container", action="store_true", help="the worst cases against the image at the manifest's memory limit"
    )
    args = parser.parse_args(argv)
    if args.container:
        return run_container()
    plan = Plan.make(args.short)
    started = time.monotonic()
    rows, complete = run(plan)
    elapsed_s = time.monotonic() - started
    print(markdown_table(rows))
    broken = [r for r in rows if not r.ok]
    kind = "short" if plan.short else "full"
    print(f"\n{len(rows) - len(broken)}/{len(rows)} held in {elapsed_s:.0f} s ({kind} run)")
    if not plan.short:
        write_results(rows, elapsed_s)
        print(f"wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    if not complete:
        return 2
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
