"""bench/chart.py: the throughput chart names every server people run, and the same figures give the same file."""

from __future__ import annotations

from pathlib import Path

from bench.chart import throughput_chart
from bench.load import WrkRun
from bench.report import Row

CONTESTANTS = ("wrk ceiling (bare httptools ok)", "asgi-echo, access log off", "go-httpbin /anything, GOMAXPROCS=1")


def _rows() -> list[Row]:
    return [
        Row(name, scenario, (WrkRun(1000.0 * (index + 1), 1.0, 2.0, 0, 0),))
        for index, name in enumerate(CONTESTANTS)
        for scenario in ("GET text echo", "POST 16 KiB JSON")
    ]


def test_the_chart_shows_each_server_but_the_load_generators_ceiling(tmp_path: Path) -> None:
    svg = throughput_chart(_rows(), "a title", tmp_path / "chart.svg").read_text()
    assert svg.startswith("<?xml")
    assert "<svg" in svg
    assert "asgi-echo, access log off" in svg
    assert "go-httpbin /anything, GOMAXPROCS=1" in svg
    assert "wrk ceiling" not in svg
    assert "POST 16 KiB JSON" in svg
    assert "a title" in svg


def test_the_same_figures_give_the_same_file(tmp_path: Path) -> None:
    first = throughput_chart(_rows(), "t", tmp_path / "a.svg").read_bytes()
    assert first == throughput_chart(_rows(), "t", tmp_path / "b.svg").read_bytes()
