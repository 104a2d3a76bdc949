"""The anytime ECDF figure: fraction of (run, target) pairs reached over queries (log x)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from matplotlib.figure import Figure

from nas_harness.analysis.plots.curves import dataset_order, panel_title
from nas_harness.analysis.plots.style import algorithm_color, algorithm_linestyle, algorithm_order

LEGEND_TWO_COLUMNS_MAX = 8
"""Each panel's legend (names with their AOCC) sits below the panel, where it covers no curve,
and the figure grows by its height: in two columns up to this many algorithms, one name per
row beyond (the libraries experiment's 16 long names would not fit two abreast)."""
LEGEND_ROW_INCHES = 0.15


def plot_ecdf(curves: pd.DataFrame, aocc: pd.DataFrame, spans: Mapping[str, float], *,
              panel_size: tuple[float, float] = (5.0, 3.4)) -> Figure:
    """One panel per dataset; the legend gives each algorithm's AOCC."""
    datasets = dataset_order(list(curves["dataset"].unique())) if len(curves) else []
    algorithms = algorithm_order(curves["algorithm"].unique()) if len(curves) else []
    ncols = 2 if len(algorithms) <= LEGEND_TWO_COLUMNS_MAX else 1
    extra = LEGEND_ROW_INCHES * -(-len(algorithms) // ncols)
    fig = Figure(figsize=(panel_size[0] * max(len(datasets), 1), panel_size[1] + 0.6 + extra),
                 layout="constrained")
    axes = fig.subplots(1, max(len(datasets), 1), squeeze=False)[0]
    area = aocc.set_index(["dataset", "algorithm"])["aocc"] if len(aocc) else pd.Series()
    for ax, dataset in zip(axes, datasets, strict=True):
        part = curves[curves["dataset"] == dataset]
        for name in algorithms:
            rows = part[part["algorithm"] == name]
            if rows.empty:
                continue
            step = rows["fraction"].diff().to_numpy() != 0  # change points (NaN != 0: first)
            step[-1] = True
            rows = rows[step]
            ax.plot(rows["query"].to_numpy(), rows["fraction"].to_numpy(float),
                    color=algorithm_color(name), linewidth=1.5, drawstyle="steps-post",
                    linestyle=algorithm_linestyle(name),
                    label=f"{name} (AOCC {area.get((dataset, name), float('nan')):.3f})")
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{panel_title(dataset)}: regret targets 0..{spans.get(dataset, 0):.2f}")
        ax.set_xlabel("queries (log)")
        ax.grid(True, alpha=0.3, linewidth=0.5)
        ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                  ncols=ncols)
    axes[0].set_ylabel("fraction of (run, target) pairs reached")
    return fig
