"""Checks 5-7 of ``bench/hostile.py``: load with wrk, a mixed soak, and shutdown with requests in flight."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from websockets.asyncio.client import connect as ws_connect

from bench.bodies import KIB, rss_bytes
from bench.hostile_support import Row, log_problems, log_row, mib, running, serving_row
from tests.rawhttp import read_response
from tests.servers import RunningServer

WRK_SCRIPT = Path(__file__).resolve().parent / "hostile_wrk.lua"
WRK_THREADS = 2
WRK_CONNECTIONS = 256
WRK_LIMIT_S = 180  # wrk's -d: the run ends here at the latest, whatever the count
SOAK_WORKERS = 8
SOAK_DRIFT_BOUND = 0.10
GRACEFUL_S = 8
# A graceful stop: exit 0, or death by the SIGTERM uvicorn 0.54 re-raises at its very end (after
# "Finished server process") so a parent sees how it ended; as PID 1 in a container that is exit 0.
REPLAYED_SIGTERM = -signal.SIGTERM


def _clean_exit(code: int | None, server: RunningServer) -> bool:
    """Exit 0, or the SIGTERM uvicorn replays on itself after finishing its shutdown."""
    finished = any("Finished server process" in line for line in server.log)
    return code == 0 or (code == REPLAYED_SIGTERM and finished)


# 5. Load ---------------------------------------------------------------------------------------------


def _run_wrk(port: int, requests: int) -> tuple[dict[str, int], float]:
    """wrk until every thread has had its share of ``requests`` answered; returns its summary and seconds."""
    per_thread = -(-requests // WRK_THREADS)
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{WRK_LIMIT_S}s", "--timeout", "5s",
               "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}/hostile/load", "--", str(per_thread)]  # fmt: skip
    started = time.monotonic()
    wrk = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    summary: dict[str, int] = {}
    try:
        assert wrk.stdout is not None
        finished_threads = 0
        for line in wrk.stdout:  # ends at the latest when wrk's -d runs out
            if line.startswith("HOSTILE_THREAD_DONE"):
                finished_threads += 1
                if finished_threads == WRK_THREADS:
                    wrk.send_signal(signal.SIGINT)  # wrk prints its summary and exits on SIGINT
            elif line.startswith("HOSTILE_WRK "):
                summary = json.loads(line.split(" ", 1)[1])
        wrk.wait(timeout=30)
    finally:
        if wrk.poll() is None:
            wrk.kill()
            wrk.wait()
    return summary, time.monotonic() - started


def load(requests: int) -> list[Row]:
    """``requests`` GETs over 256 keep-alive connections with wrk: no socket error, no non-2xx."""
    name = "5 load"
    with running() as server:
        since = len(server.log)
        summary, elapsed_s = _run_wrk(server.port, requests)
        if not summary:
            return [Row(name, f"{requests} requests over {WRK_CONNECTIONS} connections", "wrk printed no summary",
                        False)]  # fmt: skip
        answered = summary["answered"]
        socket_errors = {key: summary[key] for key in ("connect", "read", "write", "timeout")}
        rate = answered / (summary["duration_us"] / 1e6)
        return [
            Row(name, f"{requests} requests over {WRK_CONNECTIONS} keep-alive connections (wrk), all answered",
                f"{answered} answered in {elapsed_s:.1f} s ({rate:.0f} req/s, p99 {summary['p99_us'] / 1000:.0f} ms)",
                answered >= requests),
            Row(name, "zero socket errors", ", ".join(f"{k} {v}" for k, v in socket_errors.items()),
                not any(socket_errors.values())),
            Row(name, "zero non-2xx", str(summary["non2xx"]), summary["non2xx"] == 0 and summary["status"] == 0),
            serving_row(name, server),
            log_row(name, server, since),
        ]  # fmt: skip


# 6. Soak ---------------------------------------------------------------------------------------------

POST_16K = b"p" * (16 * KIB)
STREAM_1M = bytes(range(256)) * (4 * KIB)
JSON_DOC = json.dumps({"soak": True, "items": list(range(200)), "nested": {"a": [1, 2, {"b": None}]}}).encode()


def _http(target: str, content: bytes = b"", fields: str = "") -> bytes:
    method = "POST" if content else "GET"
    length = f"Content-Length: {len(content)}\r\n" if content else ""
    return f"{method} {target} HTTP/1.1\r\nHost: bench\r\n{fields}{length}\r\n".encode() + content


async def _soak_worker(port: int, index: int, until: float, counts: Counter[str], failures: list[str]) -> None:
    """Cycle through the mix on one keep-alive connection (WebSocket on its own) until ``until``."""
    kinds = ("text", "post-16k", "json", "stream-1m", "websocket")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    turn = index
    try:
        while time.monotonic() < until:
            kind = kinds[turn % len(kinds)]
            turn += 1
            try:
                if kind == "websocket":
                    async with ws_connect(f"ws://127.0.0.1:{port}/hostile/ws", open_timeout=5) as ws:
                        for message in (f"soak {turn}", STREAM_1M[: 4 * KIB]):
                            await ws.send(message)
                            if await asyncio.wait_for(ws.recv(), 5) != message:
                                raise ValueError("websocket message not echoed unchanged")
                else:
                    raw, expect = {
                        "text": (_http(f"/hostile/soak?turn={turn}"), None),
                        "post-16k": (_http("/hostile/soak", POST_16K), None),
                        "json": (_http("/hostile/soak", JSON_DOC, "Content-Type: application/json\r\n"
                                       "Accept: application/json\r\n"), None),
                        "stream-1m": (_http("/hostile/soak?echo_mode=stream", STREAM_1M), STREAM_1M),
                    }[kind]  # fmt: skip
                    writer.write(raw)
                    await writer.drain()
                    response = await read_response(reader)
                    if response.status != 200 or (expect is not None and response.content != expect):
                        raise ValueError(f"status {response.status}, {len(response.content)} bytes")
                    if kind == "json":
                        json.loads(response.content)
                counts[kind] += 1
            except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError) as exc:
                failures.append(f"{kind}: {type(exc).__name__}: {exc}")
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def _soak(pid: int, port: int, warmup_s: float, soak_s: float) -> tuple[list[tuple[float, int]], Counter[str],
                                                                                list[str]]:  # fmt: skip
    counts: Counter[str] = Counter()
    failures: list[str] = []
    started = time.monotonic()
    until = started + warmup_s + soak_s
    samples: list[tuple[float, int]] = []

    async def sample() -> None:
        while time.monotonic() < until:
            samples.append((time.monotonic() - started, rss_bytes(pid)))
            await asyncio.sleep(0.1)

    await asyncio.gather(sample(), *(_soak_worker(port, i, until, counts, failures) for i in range(SOAK_WORKERS)))
    return samples, counts, failures


def _window_mean(samples: list[tuple[float, int]], end_s: float) -> float:
    """Mean RSS over the second before ``end_s`` (traffic running: both windows see the same kind of load)."""
    window = [rss for at, rss in samples if end_s - 1 <= at <= end_s] or [samples[-1][1]]
    return sum(window) / len(window)


def soak(soak_s: float, warmup_s: float) -> list[Row]:
    """Mixed traffic for ``warmup_s`` then ``soak_s``: RSS at the end within 10% of RSS after warm-up."""
    name = "6 soak"
    with running() as server:
        since = len(server.log)
        samples, counts, failures = asyncio.run(_soak(server.process.pid, server.port, warmup_s, soak_s))
        warm = _window_mean(samples, warmup_s)
        end = _window_mean(samples, warmup_s + soak_s)
        drift = (end - warm) / warm
        mix = ", ".join(f"{kind} {counts[kind]}" for kind in sorted(counts))
        return [
            Row(name, f"{soak_s:g} s of mixed traffic after {warmup_s:g} s warm-up: end RSS within "
                      f"{SOAK_DRIFT_BOUND:.0%} of warm RSS",
                f"{mib(warm)} -> {mib(end)} ({drift:+.1%}); peak {mib(max(r for _, r in samples))}",
                abs(drift) <= SOAK_DRIFT_BOUND),
            Row(name, "every exchange answered correctly", f"{sum(counts.values())} ok ({mix}); "
                f"{len(failures)} failed{': ' + failures[0] if failures else ''}", not failures),
            serving_row(name, server),
            log_row(name, server, since),
        ]  # fmt: skip


# 7. Shutdown -----------------------------------------------------------------------------------------


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by {signal.Signals(-code).name} ({code}; {128 - code} in a shell)"
    return f"exit {code}"


async def _term_with(server: RunningServer, delay_ms: int, count: int) -> tuple[list[str], str, float, int | None]:
    """SIGTERM with ``count`` ``echo_delay`` requests in flight.

    Returns what each request got, what a new connection after SIGTERM got, the seconds from SIGTERM
    to exit and the exit code.
    """
    raw = f"GET /hostile/shutdown?echo_delay={delay_ms} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    streams = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(count)]
    try:
        for _, writer in streams:
            writer.write(raw)
            await writer.drain()
        await asyncio.sleep(0.3)  # every request is inside its delay now
        server.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        await asyncio.sleep(0.3)
        try:
            _, late = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port), 2)
            late.close()
            new_connection = "accepted"
        except OSError as exc:
            new_connection = f"refused ({type(exc).__name__})"

        async def outcome(reader: asyncio.StreamReader) -> str:
            try:
                return str((await asyncio.wait_for(read_response(reader), GRACEFUL_S + 5)).status)
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                return f"no response ({type(exc).__name__})"

        outcomes = await asyncio.gather(*(outcome(reader) for reader, _ in streams))
        with contextlib.suppress(subprocess.TimeoutExpired):  # the exit code then says "still running"
            await asyncio.to_thread(server.process.wait, GRACEFUL_S + 7)
        return outcomes, new_connection, time.monotonic() - signalled, server.process.poll()
    finally:
        for _, writer in streams:
            writer.close()


def shutdown(in_flight: int = 5) -> list[Row]:
    """SIGTERM with requests in flight: they finish, new connections are refused, the process exits cleanly."""
    name = "7 shutdown"
    extra = ("--timeout-graceful-shutdown", str(GRACEFUL_S))
    with running(extra=extra) as server:
        since = len(server.log)
        outcomes, new, exit_s, code = asyncio.run(_term_with(server, 2000, in_flight))
        rows = [
            Row(name, f"SIGTERM with {in_flight} echo_delay=2000 requests in flight: each gets 200",
                ", ".join(outcomes), outcomes == ["200"] * in_flight),
            Row(name, "a new connection after SIGTERM is refused", new, new.startswith("refused")),
            Row(name, f"exits cleanly within the graceful timeout ({GRACEFUL_S} s)",
                f"{_exit_text(code)} after {exit_s:.1f} s", _clean_exit(code, server) and exit_s < GRACEFUL_S),
            log_row(name, server, since),
        ]  # fmt: skip
    with running(extra=extra) as server:
        since = len(server.log)
        outcomes, _, exit_s, code = asyncio.run(_term_with(server, 10000, 1))
        # uvicorn logs the cancellation itself at ERROR ("Cancel 1 running task(s) ..."): expected here.
        bad = [line for line in log_problems(server, since) if "timeout graceful shutdown exceeded" not in line]
        rows += [
            Row(name, f"SIGTERM with an echo_delay=10000 request in flight: 503 at the graceful timeout, "
                      f"exits cleanly in < {GRACEFUL_S + 2} s",
                f"request: {outcomes[0]}; {_exit_text(code)} after {exit_s:.1f} s",
                _clean_exit(code, server) and exit_s < GRACEFUL_S + 2 and outcomes[0] == "503"),
            Row(name, "no Traceback, no ERROR besides uvicorn's cancellation line",
                "none" if not bad else f"{len(bad)} line(s), first: {bad[0][:160]}", not bad),
        ]  # fmt: skip
    return rows
