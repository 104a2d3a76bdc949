"""Rank figures: mean rank over the query budget per dataset, and the critical-difference diagram.

Built on ``matplotlib.figure.Figure`` (no pyplot state); the diagram itself is drawn by
``scikit_posthocs.critical_difference_diagram`` into our axes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from nas_harness.analysis.metrics.ranks import RankTest
from nas_harness.analysis.metrics.significance import p_text
from nas_harness.analysis.plots.curves import dataset_order, panel_title
from nas_harness.analysis.plots.legend import figure_legend
from nas_harness.analysis.plots.style import algorithm_color, algorithm_linestyle, algorithm_order


def plot_ranks(ranks: pd.DataFrame, *, panel_size: tuple[float, float] = (5.0, 3.4)) -> Figure:
    """Mean rank (1 = best) over queries, one panel per dataset, log query axis.

    Ranks on the time axis (an ``elapsed_s`` column in place of ``query``) are drawn over
    simulated seconds, 0 to each dataset's budget, on a linear axis like the curves.
    """
    timed = "query" not in ranks.columns and "elapsed_s" in ranks.columns
    datasets = dataset_order(list(ranks["dataset"].unique())) if len(ranks) else []
    algorithms = algorithm_order(ranks["algorithm"].unique()) if len(ranks) else []
    fig = Figure(figsize=(panel_size[0] * max(len(datasets), 1), panel_size[1] + 0.8),
                 layout="constrained")
    axes = fig.subplots(1, max(len(datasets), 1), squeeze=False)[0]
    if not datasets:
        axes[0].text(0.5, 0.5, "no complete blocks to rank", ha="center", va="center")
        axes[0].set_axis_off()
        return fig
    for ax, dataset in zip(axes, datasets, strict=True):
        part = ranks[ranks["dataset"] == dataset]
        x = "elapsed_s" if timed else "query"
        if not timed:
            part = part[part["query"].isin(log_grid(int(part["query"].max())))]
        for name in algorithms:
            rows = part[part["algorithm"] == name]
            ax.plot(rows[x].to_numpy(), rows["mean_rank"].to_numpy(float),
                    color=algorithm_color(name), linewidth=1.5, drawstyle="steps-post",
                    linestyle=algorithm_linestyle(name),
                    label=name)
        if timed:
            ax.set_xlim(0, float(part[x].max()))
        else:
            ax.set_xscale("log")
        ax.set_ylim(len(algorithms) + 0.3, 0.7)  # rank 1 on top
        ax.set_title(f"{panel_title(dataset)} ({int(part['n_blocks'].iloc[0])} run indices)")
        ax.set_xlabel("simulated training time (s)" if timed else "queries (log)")
        ax.grid(True, alpha=0.3, linewidth=0.5)
    axes[0].set_ylabel("mean rank over runs (1 = best)")
    handles, labels = axes[0].get_legend_handles_labels()
    figure_legend(fig, handles, labels, max_cols=6, frameon=False, fontsize=8)
    return fig


def log_grid(budget: int, points: int = 200) -> np.ndarray:
    """About ``points`` query numbers evenly spaced on a log axis (all of them when fewer).

    A log-axis figure cannot show more; drawing 500 steps per line made the PDF slow.
    """
    return np.unique(np.geomspace(1, budget, points).round().astype(np.int64))


def plot_critical_difference(test: RankTest, *, size: tuple[float, float] = (8.0, 2.8)
                             ) -> Figure:
    """The critical-difference diagram; a figure that says why when the test does not apply."""
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.subplots()
    if not test.tested:
        ranks = ", ".join(f"{a} {r:.2f}" for a, r in test.mean_ranks.sort_values().items())
        ax.text(0.5, 0.6, "no critical-difference diagram", ha="center", va="center",
                fontsize=11, weight="bold")
        ax.text(0.5, 0.35, test.note, ha="center", va="center", fontsize=8, wrap=True)
        ax.text(0.5, 0.12, f"mean ranks: {ranks}", ha="center", va="center", fontsize=8)
        ax.set_axis_off()
        return fig
    import scikit_posthocs as sp

    # scikit-posthocs groups the names under a crossbar in sets and draws them in set order,
    # which for strings changes with each process's hash seed (PYTHONHASHSEED): with many
    # algorithms the bars' stacking, hence the PNG, differed between two identical reports.
    # It is given integer keys (their set order is fixed) and the labels are put back after.
    names: Sequence[str] = list(test.mean_ranks.index)
    keys = range(len(names))
    ranks = pd.Series(test.mean_ranks.to_numpy(), index=list(keys))
    nemenyi = pd.DataFrame(test.nemenyi.loc[names, names].to_numpy(), index=list(keys),
                           columns=list(keys))
    sp.critical_difference_diagram(
        ranks, nemenyi, ax=ax, alpha=test.alpha,
        color_palette={k: algorithm_color(names[k]) for k in keys},
        label_fmt_left="@{label}@ ({rank:.2f})", label_fmt_right="({rank:.2f}) @{label}@")
    for text in ax.texts:
        text.set_text(re.sub(r"@(\d+)@", lambda m: names[int(m.group(1))], text.get_text()))
    ax.set_title(f"mean rank (1 = best) over {test.n_blocks} blocks (dataset, checkpoint, run "
                 f"index); Friedman p {p_text(test.p_value)}\nbars join the algorithms the "
                 f"Nemenyi test does not separate at alpha = {test.alpha:g} (critical "
                 f"difference {test.critical_difference:.3f})", fontsize=8)
    return fig
