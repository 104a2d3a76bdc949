"""Draw an analysis's six figures and save each as PNG (what the pages show) and PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nas_harness.analysis.plots.curves import plot_curves
from nas_harness.analysis.plots.distributions import plot_final_distributions
from nas_harness.analysis.plots.ecdf import plot_ecdf
from nas_harness.analysis.plots.ranks import plot_critical_difference, plot_ranks
from nas_harness.analysis.plots.scatter import plot_flops_scatter
from nas_harness.analysis.report.analysis import Analysis
from nas_harness.benchmarks.table import BenchmarkTable

FIGURE_DPI = 150
"""Pixels per inch of the PNGs."""


def _save(fig: Any, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    fig.savefig(png, dpi=FIGURE_DPI, metadata={"Software": None})
    # the PNG's draw placed every axes; keep those positions for the PDF rather than have the
    # layout engine measure every tick label again (a third of a figure's time)
    fig.set_layout_engine("none")
    fig.savefig(pdf, metadata={"CreationDate": None, "Producer": None, "Creator": None})
    return [png, pdf]


def write_figures(a: Analysis, table: BenchmarkTable, fig_dir: Path) -> list[Path]:
    """Draw the six figures of an analysis into ``fig_dir`` (PNG and PDF each)."""
    figures: list[Path] = []
    fig, _ = plot_curves(a.axis.summary, a.refs)
    figures += _save(fig, fig_dir / "curves")
    fig, _ = plot_final_distributions(a.final, a.refs)
    figures += _save(fig, fig_dir / "final_distribution")
    fig, _ = plot_flops_scatter(a.final, {d: table[d] for d in a.refs}, a.refs)
    figures += _save(fig, fig_dir / "flops_scatter")
    figures += _save(plot_critical_difference(a.stats.rank_test), fig_dir / "critical_difference")
    figures += _save(plot_ranks(a.stats.ranks), fig_dir / "ranks")
    figures += _save(plot_ecdf(a.stats.ecdf, a.stats.aocc, a.stats.spans), fig_dir / "ecdf")
    return figures
