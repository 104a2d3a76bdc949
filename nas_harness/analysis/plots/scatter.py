"""FLOPs against test accuracy: the architectures each algorithm ended with, over the space.

Every architecture with data is a grey dot (feasible darker, infeasible lighter) and the
FLOPs limit a dotted vertical line; each algorithm's final incumbents are drawn on top in its
colour, the marker area growing with the number of runs that ended there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from nas_harness.analysis.metrics.references import References
from nas_harness.analysis.plots.curves import dataset_order, panel_title
from nas_harness.analysis.plots.legend import figure_legend
from nas_harness.analysis.plots.style import FEASIBLE_COLOR, algorithm_color, algorithm_order
from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.table import DatasetTable

INDEX_COLUMN = "final_incumbent_index"


def found_architectures(final: pd.DataFrame, tables: Mapping[str, DatasetTable]) -> pd.DataFrame:
    """Distinct final incumbents per (algorithm, dataset) with FLOPs, test accuracy, run count."""
    for column in ("algorithm", "dataset", INDEX_COLUMN):
        if column not in final.columns:
            raise DataIntegrityError(f"final-run table lacks column {column!r}")
    have = final[final[INDEX_COLUMN].notna() & (final[INDEX_COLUMN] >= 0)]
    found = (have.assign(arch_index=have[INDEX_COLUMN].astype(np.int64))
             .groupby(["algorithm", "dataset", "arch_index"], sort=True).size()
             .rename("runs").reset_index())
    flops = np.full(len(found), np.nan)
    test = np.full(len(found), np.nan)
    for dataset, rows in found.groupby("dataset").groups.items():
        if dataset not in tables:
            raise DataIntegrityError(f"no benchmark table for dataset {dataset!r}")
        table = tables[str(dataset)]
        idx = found.loc[rows, "arch_index"].to_numpy()
        pos = found.index.get_indexer(rows)
        flops[pos] = table.flops[idx]
        test[pos] = table.test_acc[idx]
    return found.assign(flops=flops, test_acc=test)


def plot_flops_scatter(final: pd.DataFrame, tables: Mapping[str, DatasetTable],
                       refs: Mapping[str, References] | None = None, *,
                       datasets: Sequence[str] | None = None,
                       panel_size: tuple[float, float] = (5.0, 3.8),
                       ) -> tuple[Figure, pd.DataFrame]:
    """One panel per dataset: all architectures in grey, each algorithm's finds in colour.

    Args:
        final: one row per run with ``final_incumbent_index`` (``aggregate.final_runs``).
        tables: the benchmark table of each dataset (FLOPs and test accuracy).
        refs: reference records; their ``max_flops`` draws the constraint line.
        datasets: panels to draw (default: all in ``final``).
        panel_size: inches per panel.

    Returns:
        The figure and the found architectures (``found_architectures``).
    """
    datasets = dataset_order(datasets if datasets is not None else final["dataset"].unique())
    data = found_architectures(final[final["dataset"].isin(datasets)], tables)
    algorithms = algorithm_order(data["algorithm"].unique())
    fig = Figure(figsize=(panel_size[0] * len(datasets), panel_size[1] + 0.9),
                 layout="constrained")
    axes = fig.subplots(1, len(datasets), squeeze=False)[0]
    for ax, dataset in zip(axes, datasets, strict=True):
        table = tables[dataset]
        avail = np.asarray(table.available, dtype=bool)
        limit = refs[dataset].max_flops if refs and dataset in refs else np.inf
        feasible = avail & (table.flops <= limit)
        for mask, color in ((avail & ~feasible, "#e6e6e6"), (feasible, FEASIBLE_COLOR)):
            ax.scatter(table.flops[mask], table.test_acc[mask], s=2, color=color,
                       linewidths=0, rasterized=True, zorder=1)
        if np.isfinite(limit):
            ax.axvline(limit, color="#555555", linestyle=":", linewidth=1.0)
        part = data[data["dataset"] == dataset]
        for algorithm in algorithms:
            rows = part[part["algorithm"] == algorithm]
            if rows.empty:
                continue
            ax.scatter(rows["flops"], rows["test_acc"], s=12 + 6 * np.sqrt(rows["runs"]),
                       color=algorithm_color(algorithm), edgecolors="black", linewidths=0.3,
                       alpha=0.85, zorder=3)
        found = part["test_acc"].to_numpy(float)
        if np.isfinite(found).any():  # zoom on the upper part of the cloud, keep the finds
            lo = min(float(np.nanpercentile(table.test_acc[avail], 5)), float(np.nanmin(found)))
            hi = float(np.nanmax(table.test_acc[avail]))
            ax.set_ylim(lo - 0.3, hi + 0.3)
        ax.set_title(panel_title(dataset))
        ax.set_xlabel("FLOPs (M)")
        ax.grid(True, alpha=0.3, linewidth=0.5)
    axes[0].set_ylabel("test accuracy (%)")
    handles = [Line2D([], [], marker="o", linestyle="", color=algorithm_color(a),
                      markeredgecolor="black", markeredgewidth=0.3) for a in algorithms]
    labels = list(algorithms)
    handles += [Line2D([], [], marker="o", linestyle="", color=FEASIBLE_COLOR),
                Line2D([], [], color="#555555", linestyle=":")]
    labels += ["all feasible architectures (light: infeasible)", "FLOPs limit"]
    figure_legend(fig, handles, labels, max_cols=5,
                  title="final incumbents (area ~ number of runs)", frameon=False, fontsize=8,
                  title_fontsize=8)
    return fig, data
