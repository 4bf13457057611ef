"""The throughput comparison as a chart: one group of bars per scenario, one bar per contestant (median req/s)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt

from bench.report import Row

#: The load generator's own ceiling is not a server people run; it stays in the tables.
LEFT_OUT = ("wrk ceiling",)


def throughput_chart(rows: Sequence[Row], title: str, destination: Path) -> Path:
    """Write an SVG of median req/s by scenario and contestant to ``destination``; returns it.

    The SVG carries no date and fixed ids, so the same figures give the same file.
    """
    scenarios = list(dict.fromkeys(row.scenario for row in rows))
    contestants = [name for name in dict.fromkeys(row.contestant for row in rows) if not name.startswith(LEFT_OUT)]
    by = {(row.contestant, row.scenario): row.requests_per_s for row in rows}
    width = 0.8 / max(len(contestants), 1)
    matplotlib.rcParams["svg.hashsalt"] = "asgi-echo"
    figure, axes = plt.subplots(figsize=(10, 5.5))
    for index, contestant in enumerate(contestants):
        positions = [group + (index - (len(contestants) - 1) / 2) * width for group in range(len(scenarios))]
        values = [by.get((contestant, scenario), 0.0) for scenario in scenarios]
        axes.bar(positions, values, width, label=contestant)
    axes.set_xticks(range(len(scenarios)), scenarios)
    axes.set_ylabel("requests per second (median)")
    axes.set_title(title, fontsize=10)
    axes.yaxis.grid(True, linestyle=":", linewidth=0.5)
    axes.set_axisbelow(True)
    axes.legend(fontsize=8, ncols=2)
    figure.tight_layout()
    destination.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(destination, format="svg", metadata={"Date": None})
    plt.close(figure)
    return destination
