"""Latency distributions of a benchmark run, drawn to PNG files beside docs/benchmarks.md.

Each chart puts ours and its baseline on the same axes: the share of requests (or calls, or
decisions) answered within a latency, latency on a log scale. Lines differ in style and marker
as well as colour, and each is labelled, so the charts read without colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

HEADING = "## Latency distributions"
INTRO = (
    "Drawn by `make bench` from the latencies of the last run of each benchmark: the share "
    "answered within a latency (log scale), ours beside its baseline."
)
STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D")]
POINTS = 200  # markers drawn per line: enough to tell the lines apart, few enough to read


@dataclass(frozen=True, slots=True)
class Distribution:
    label: str
    samples_ms: Sequence[float]  # sorted


@dataclass(frozen=True, slots=True)
class Chart:
    file_name: str
    title: str
    x_label: str
    lines: list[Distribution]


def write(charts: Sequence[Chart], folder: Path) -> list[Path]:
    """Each chart with samples to `folder/<file_name>`; the paths written."""
    written = []
    for chart in charts:
        if any(line.samples_ms for line in chart.lines):
            written.append(_draw(chart, folder / chart.file_name))
    return written


def _draw(chart: Chart, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    for (style, marker), line in zip(STYLES, chart.lines, strict=False):
        if not line.samples_ms:
            continue
        xs, ys = _cumulative(line.samples_ms)
        every = max(1, len(xs) // 12)
        label = f"{line.label} (p50 {_p(line.samples_ms, 0.5):.1f} ms, "
        label += f"p99 {_p(line.samples_ms, 0.99):.1f} ms)"
        axes.plot(xs, ys, linestyle=style, marker=marker, markevery=every, label=label)
    axes.set_xscale("log")
    axes.set_xlabel(chart.x_label)
    axes.set_ylabel("share within that latency")
    axes.set_ylim(0, 1.01)
    axes.axhline(0.99, color="grey", linewidth=0.8, linestyle=(0, (1, 3)))
    axes.annotate("p99", (0.005, 0.99), xycoords=("axes fraction", "data"), va="bottom")
    axes.set_title(chart.title)
    axes.grid(True, which="both", linewidth=0.3)
    axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def _cumulative(samples: Sequence[float]) -> tuple[list[float], list[float]]:
    """At most `POINTS` points of the empirical distribution, always with its last sample."""
    n = len(samples)
    step = max(1, n // POINTS)
    indexes = [*range(0, n, step), n - 1]
    return [max(samples[i], 1e-3) for i in indexes], [(i + 1) / n for i in indexes]


def _p(samples: Sequence[float], share: float) -> float:
    return samples[max(0, int(share * len(samples) + 0.999999) - 1)]
