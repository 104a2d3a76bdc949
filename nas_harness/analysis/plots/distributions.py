"""Distribution of the final test accuracy per algorithm: box plots with every run as a dot.

One panel per dataset, the panels in rows (one row each) so that the figure stays about as
wide as the others however many algorithms it shows; when every panel shows the same
algorithms, only the bottom one names them.

A mean and a band hide how a few bad runs look; the box (quartiles, whiskers at 1.5 IQR)
plus the runs themselves show it. The dots' horizontal jitter comes from a fixed-seed
Generator, so the figure is the same on every call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from nas_harness.analysis.metrics.references import References
from nas_harness.analysis.plots.curves import REFERENCE_LABELS, dataset_order, panel_title
from nas_harness.analysis.plots.style import REFERENCE_STYLE, algorithm_color, algorithm_order
from nas_harness.benchmarks.errors import DataIntegrityError

FINAL_COLUMN = "final_incumbent_test_acc"


def plot_final_distributions(final: pd.DataFrame, refs: Mapping[str, References] | None = None,
                             *, datasets: Sequence[str] | None = None,
                             panel_size: tuple[float, float] = (5.0, 2.3),
                             ) -> tuple[Figure, pd.DataFrame]:
    """One panel per dataset: a box of the runs' final test accuracy per algorithm.

    Args:
        final: one row per run with ``algorithm``, ``dataset`` and ``final_incumbent_test_acc``
            (``nas_harness.analysis.metrics.aggregate.final_runs``).
        refs: reference lines per dataset (dashed) when given.
        datasets: panels to draw (default: all in ``final``).
        panel_size: inches per panel (wider when many algorithms need the room).

    Returns:
        The figure and the plotted rows (``algorithm``, ``dataset``, ``run_id``, final accuracy);
        runs without a feasible query (NaN) are left out of the boxes.
    """
    for column in ("algorithm", "dataset", FINAL_COLUMN):
        if column not in final.columns:
            raise DataIntegrityError(f"final-run table lacks column {column!r}")
    datasets = dataset_order(datasets if datasets is not None else final["dataset"].unique())
    data = final[final["dataset"].isin(datasets) & final[FINAL_COLUMN].notna()]
    data = data[[c for c in ("algorithm", "dataset", "run_id", FINAL_COLUMN)
                 if c in data.columns]].reset_index(drop=True)
    if data.empty:
        raise DataIntegrityError("nothing to plot: no run has a final accuracy")
    algorithms = algorithm_order(data["algorithm"].unique())
    rng = np.random.default_rng(0)
    width = max(panel_size[0], 0.9 * len(algorithms) + 1.5)
    fig = Figure(figsize=(width, panel_size[1] * len(datasets) + 0.4), layout="constrained")
    axes = fig.subplots(len(datasets), 1, squeeze=False)[:, 0]
    shown = {d: [a for a in algorithms if ((data["dataset"] == d) & (data["algorithm"] == a)).any()]
             for d in datasets}
    shared = all(names == shown[datasets[0]] for names in shown.values())
    for ax, dataset in zip(axes, datasets, strict=True):
        part = data[data["dataset"] == dataset]
        present = shown[dataset]
        values = [part.loc[part["algorithm"] == a, FINAL_COLUMN].to_numpy(float)
                  for a in present]
        positions = np.arange(1, len(present) + 1)
        if present:
            boxes = ax.boxplot(values, positions=positions, widths=0.55, showfliers=False,
                               patch_artist=True, medianprops={"color": "black"})
            for box, name in zip(boxes["boxes"], present, strict=True):
                box.set_facecolor(algorithm_color(name))
                box.set_alpha(0.35)
            for pos, name, vals in zip(positions, present, values, strict=True):
                jitter = rng.uniform(-0.18, 0.18, size=len(vals))
                ax.scatter(pos + jitter, vals, s=6, color=algorithm_color(name), alpha=0.6,
                           linewidths=0, zorder=3)
            named = not shared or ax is axes[-1]
            ax.set_xticks(positions, present if named else [""] * len(present),
                          rotation=30 if named else 0, ha="right" if named else "center")
        if refs and dataset in refs:
            ref = refs[dataset]
            ax.axhline(ref.best_by_valid_test_acc, **REFERENCE_STYLE["best_by_valid"])  # type: ignore[arg-type]
            ax.axhline(ref.best_test_acc, **REFERENCE_STYLE["best_test"])  # type: ignore[arg-type]
        ax.set_title(panel_title(dataset), fontsize=10)
        ax.set_ylabel("final test acc. (%)", fontsize=9)
        ax.grid(True, axis="y", alpha=0.3, linewidth=0.5)
    if refs:
        handles = [Line2D([], [], **REFERENCE_STYLE[key]) for key in REFERENCE_LABELS]  # type: ignore[arg-type]
        fig.legend(handles, list(REFERENCE_LABELS.values()), loc="outside lower center",
                   ncols=2, frameon=False, fontsize=8)
    return fig, data
