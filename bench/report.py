"""Figures into words: the throughput table, the body-size table, the targets, and bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata

from bench.load import WrkRun

MIB = 1024 * 1024
PACKAGES = ("uvicorn", "starlette", "httptools", "uvloop", "flask", "gunicorn", "mypy")


@dataclass(frozen=True)
class Row:
    """One contestant in one scenario: the medians over the repetitions and the errors summed."""

    contestant: str
    scenario: str
    runs: tuple[WrkRun, ...]

    @property
    def requests_per_s(self) -> float:
        """Median requests per second."""
        return statistics.median(run.requests_per_s for run in self.runs)

    @property
    def p50_ms(self) -> float:
        """Median of the runs' 50th percentile latency, in milliseconds."""
        return statistics.median(run.p50_ms for run in self.runs)

    @property
    def p99_ms(self) -> float:
        """Median of the runs' 99th percentile latency, in milliseconds."""
        return statistics.median(run.p99_ms for run in self.runs)

    @property
    def errors(self) -> int:
        """Socket errors and failed statuses over all runs."""
        return sum(run.errors for run in self.runs)

    def ratio_to(self, floor: Row) -> float:
        """Median req/s over the floor's median req/s, as in the throughput table."""
        return self.requests_per_s / floor.requests_per_s

    def ratios_to(self, floor: Row) -> list[float]:
        """Each repetition's req/s over the floor's in the same repetition."""
        return [run.requests_per_s / base.requests_per_s for run, base in zip(self.runs, floor.runs, strict=True)]


@dataclass(frozen=True)
class Target:
    """A target of issue 5 and how this run did. ``met`` is None when the run gives no verdict.

    ``kind`` is ``throughput`` (a ratio; noisy, so the smoke run reports it without failing), ``timing``
    (also reported only in smoke) or ``memory`` (always enforced).
    """

    name: str
    measured: str
    met: bool | None
    kind: str

    def status(self, smoke: bool) -> str:
        """``met``, ``MISSED``, ``missed (smoke: not enforced)`` or ``no verdict``."""
        if self.met is None:
            return "no verdict"
        if self.met:
            return "met"
        return "missed (smoke: not enforced)" if smoke and self.kind != "memory" else "MISSED"

    def fails(self, smoke: bool) -> bool:
        """Whether this target makes the run exit non-zero."""
        return self.met is False and (not smoke or self.kind == "memory")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def throughput_table(rows: Sequence[Row], floor_by_scenario: dict[str, float]) -> str:
    """Contestant, scenario, req/s, p50, p99, errors and the ratio to the floor's median req/s."""
    body = []
    for row in rows:
        floor = floor_by_scenario.get(row.scenario)
        ratio = f"{row.requests_per_s / floor:.0%}" if floor else "-"
        body.append(
            [
                row.contestant,
                row.scenario,
                f"{row.requests_per_s:,.0f}",
                f"{row.p50_ms:.2f} ms",
                f"{row.p99_ms:.2f} ms",
                str(row.errors),
                ratio,
            ]
        )
    return markdown_table(["contestant", "scenario", "req/s", "p50", "p99", "errors", "ratio to floor"], body)


def versus_table(rows: Sequence[Row], floor: str, now: str, then: str, rev: str) -> str:
    """Per scenario, the ratios to ``floor`` of ``now`` and of ``then`` (``rev``'s build): of the medians and
    of each repetition, and the difference in points."""
    by = {(row.contestant, row.scenario): row for row in rows}
    body = []
    for scenario in dict.fromkeys(row.scenario for row in rows):
        base, ours, theirs = by[floor, scenario], by[now, scenario], by[then, scenario]
        points = (ours.ratio_to(base) - theirs.ratio_to(base)) * 100
        body.append(
            [
                scenario,
                f"{ours.ratio_to(base):.1%}",
                _percentages(ours.ratios_to(base)),
                f"{theirs.ratio_to(base):.1%}",
                _percentages(theirs.ratios_to(base)),
                f"{points:+.1f}",
            ]
        )
    header = ["scenario", "now / floor", "now, each repetition", f"{rev} / floor", f"{rev}, each repetition"]
    header.append(f"now - {rev} (points)")
    return markdown_table(header, body)


def _percentages(ratios: Sequence[float]) -> str:
    return ", ".join(f"{ratio:.1%}" for ratio in ratios)


def targets_table(targets: Sequence[Target], smoke: bool) -> str:
    """Each target with what was measured and whether it is met."""
    return markdown_table(["target", "measured", "status"], [[t.name, t.measured, t.status(smoke)] for t in targets])


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def wrk_version() -> str:
    """wrk's version line."""
    if shutil.which("wrk") is None:
        return "not installed"
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].split(" Copyright")[0].strip()


def environment_lines(cores_note: str) -> list[str]:
    """Machine and versions, one Markdown list item each."""
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    return [
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {cpu_model()}, {_core_count()} cores; {cores_note}",
        f"- Python {platform.python_version()}; {versions}; {wrk_version()}",
    ]


def _core_count() -> int:
    return os.cpu_count() or 0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
