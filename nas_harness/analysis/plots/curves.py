"""The paper's figure: incumbent test accuracy over queries (or seconds), one panel per dataset.

Per algorithm a mean line and a 25-75% band (from the summary table): a light fill with a
thin line along its edges, so that six overlapping bands stay apart; the two reference lines
dashed, one legend for the figure. Figures are built with
``matplotlib.figure.Figure`` (no pyplot state), so they render headless and in threads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from nas_harness.analysis.metrics.references import References
from nas_harness.analysis.plots.legend import figure_legend
from nas_harness.analysis.plots.style import (
    BAND_ALPHA,
    BAND_EDGE_ALPHA,
    REFERENCE_STYLE,
    algorithm_color,
    algorithm_linestyle,
    algorithm_order,
)
from nas_harness.benchmarks.datasets import DATASET_NAMES, get_dataset
from nas_harness.benchmarks.errors import DataIntegrityError

LEGEND_TITLE = "mean, 25-75% band"
REFERENCE_LABELS = {
    "best_by_valid": "best-by-validation feasible arch (perfect search)",
    "best_test": "best feasible test accuracy",
}
PLOT_COLUMNS = ("algorithm", "dataset", "query", "n_runs", "n", "mean", "q25", "q75")
TIME_X = "elapsed_s"
TIME_LABEL = "simulated training time (s)"


def dataset_order(names: Sequence[str]) -> list[str]:
    """Datasets in the canonical order (CIFAR-10, CIFAR-100, ImageNet16-120), others after."""
    present = list(dict.fromkeys(names))
    known = [d for d in DATASET_NAMES if d in present]
    return known + sorted(d for d in present if d not in known)


def panel_title(dataset: str) -> str:
    """The label of a dataset (``CIFAR-10`` ...), or its name if unknown."""
    try:
        return get_dataset(dataset).label
    except KeyError:
        return dataset


def _y_limits(data: pd.DataFrame, refs: Mapping[str, References] | None,
              dataset: str, budget: float, x: str = "query") -> tuple[float, float]:
    """Focus on where the curves separate: from the lowest band after 5% of the budget."""
    late = data[data[x] >= (max(1, int(budget) // 20) if x == "query" else budget / 20)]
    lows = late["q25"].to_numpy(dtype=float)
    highs = late["q75"].to_numpy(dtype=float)
    tops = [np.nanmax(highs)] if np.isfinite(highs).any() else []
    if refs and dataset in refs:
        tops += [refs[dataset].best_test_acc, refs[dataset].best_by_valid_test_acc]
    lo = float(np.nanmin(lows)) if np.isfinite(lows).any() else 0.0
    hi = float(max(tops)) if tops else 100.0
    pad = max(0.05 * (hi - lo), 0.05)
    return lo - pad, hi + pad


def plot_curves(summary: pd.DataFrame, refs: Mapping[str, References] | None = None, *,
                datasets: Sequence[str] | None = None,
                algorithms: Sequence[str] | None = None,
                panel_size: tuple[float, float] = (5.0, 3.8)) -> tuple[Figure, pd.DataFrame]:
    """Draw one panel per dataset of mean lines with 25-75% bands.

    A summary on the time axis (``elapsed_s`` in place of ``query``, a sweep under a budget
    in simulated seconds) is drawn over simulated seconds, 0 to each dataset's budget, on a
    linear axis as NATS-Bench's figures are.

    Args:
        summary: the tidy summary table (``nas_harness.analysis.metrics.aggregate.summarize``, or
            ``summarize_time`` /
            ``nas_harness.analysis.metrics.time_axis.summarize_budget_curves``).
        refs: reference lines per dataset; drawn dashed when given.
        datasets: panels to draw (default: every dataset in ``summary``, canonical order).
        algorithms: algorithms to draw (default: all, in the fixed order).
        panel_size: inches per panel.

    Returns:
        The figure and the rows of ``summary`` it plots.
    """
    x = "query" if "query" in summary.columns or TIME_X not in summary.columns else TIME_X
    columns = [TIME_X if c == "query" else c for c in PLOT_COLUMNS] if x == TIME_X \
        else list(PLOT_COLUMNS)
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise DataIntegrityError(f"summary table lacks column(s) {', '.join(missing)}")
    datasets = dataset_order(datasets if datasets is not None else summary["dataset"].unique())
    algorithms = algorithm_order(algorithms if algorithms is not None
                                 else summary["algorithm"].unique())
    data = summary[summary["dataset"].isin(datasets) & summary["algorithm"].isin(algorithms)]
    data = data[columns].reset_index(drop=True)
    if data.empty:
        raise DataIntegrityError("nothing to plot: no summary rows for the chosen datasets")

    fig = Figure(figsize=(panel_size[0] * len(datasets), panel_size[1] + 0.9),
                 layout="constrained")
    axes = fig.subplots(1, len(datasets), squeeze=False)[0]
    for ax, dataset in zip(axes, datasets, strict=True):
        part = data[data["dataset"] == dataset]
        if x == "query":
            budget: float = int(part["query"].max()) if len(part) else 1
        else:
            budget = float(part[x].max()) if len(part) else 1.0
        for algorithm in algorithms:
            rows = part[part["algorithm"] == algorithm]
            if rows.empty:
                continue
            color = algorithm_color(algorithm)
            xs = rows[x].to_numpy()
            ax.fill_between(xs, rows["q25"].to_numpy(float), rows["q75"].to_numpy(float),
                            facecolor=to_rgba(color, BAND_ALPHA),
                            edgecolor=to_rgba(color, BAND_EDGE_ALPHA), linewidth=0.5,
                            step="post")
            ax.plot(xs, rows["mean"].to_numpy(float), color=color, linewidth=1.6,
                    linestyle=algorithm_linestyle(algorithm), drawstyle="steps-post")
        low, high = _y_limits(part, refs, dataset, budget, x)
        if refs and dataset in refs:
            ref = refs[dataset]
            for key, value in (("best_by_valid", ref.best_by_valid_test_acc),
                               ("best_test", ref.best_test_acc)):
                ax.axhline(value, **REFERENCE_STYLE[key])  # type: ignore[arg-type]
                if low <= value <= high:  # a label off the panel would push the layout apart
                    ax.annotate(f"{value:.2f}", xy=(1.0, value),
                                xycoords=("axes fraction", "data"), xytext=(2, 0),
                                textcoords="offset points", va="center", fontsize=7,
                                color=str(REFERENCE_STYLE[key]["color"]))
        ax.set_xlim(1 if x == "query" else 0, budget)
        ax.set_ylim(low, high)
        ax.set_title(panel_title(dataset))
        ax.set_xlabel("queries" if x == "query" else TIME_LABEL)
        ax.grid(True, alpha=0.3, linewidth=0.5)
    axes[0].set_ylabel("test accuracy of the incumbent (%)")

    handles: list[Any] = []
    labels: list[str] = []
    for algorithm in algorithms:
        if (data["algorithm"] == algorithm).any():
            color = algorithm_color(algorithm)
            handles.append((Patch(facecolor=to_rgba(color, 2 * BAND_ALPHA),
                                  edgecolor=to_rgba(color, BAND_EDGE_ALPHA), linewidth=0.5),
                            Line2D([], [], color=color, linewidth=1.6,
                                   linestyle=algorithm_linestyle(algorithm))))
            labels.append(algorithm)
    if refs:
        for key, label in REFERENCE_LABELS.items():
            handles.append(Line2D([], [], **REFERENCE_STYLE[key]))  # type: ignore[arg-type]
            labels.append(label)
    figure_legend(fig, handles, labels, max_cols=5, title=LEGEND_TITLE,
                  handler_map={tuple: HandlerTuple(ndivide=1)}, frameon=False, fontsize=8,
                  title_fontsize=8)
    return fig, data
