"""Figures of the multi-objective track: HV over queries, attainment surfaces, budgets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from nas_harness.analysis.plots.style import algorithm_color, algorithm_order

HV_LABEL = "HV / exact test front's HV\n(FLOPs, test accuracy)"


def _axes(n: int, height: float = 3.4) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, height), squeeze=False)
    return fig, axes[0]


def hv_figure(summary: pd.DataFrame, datasets: Sequence[str],
              reachable: Mapping[str, float] | None = None) -> Any:
    """Mean normalised HV over queries with 25-75% bands, one panel per dataset."""
    fig, axes = _axes(len(datasets))
    for ax, ds in zip(axes, datasets, strict=True):
        part = summary[summary["dataset"] == ds]
        for alg in algorithm_order(part["algorithm"].unique()):
            line = part[part["algorithm"] == alg]
            color = algorithm_color(alg)
            ax.plot(line["queries"], line["mean"], color=color, label=alg, lw=1.4)
            ax.fill_between(line["queries"], line["q25"], line["q75"], color=color,
                            alpha=0.15, lw=0)
        if reachable and ds in reachable:
            ax.axhline(reachable[ds], color="black", ls=":", lw=1,
                       label="reachable under the search's FLOPs limit")
        ax.set_title(ds)
        ax.set_xlabel("queries")
        ax.set_ylabel(HV_LABEL if ax is axes[0] else "")
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def attainment_figure(surfaces: Mapping[str, Mapping[str, np.ndarray]],
                      fronts: Mapping[str, tuple[np.ndarray, np.ndarray]],
                      datasets: Sequence[str]) -> Any:
    """The 50% attainment surface of each algorithm beside the exact test front."""
    fig, axes = _axes(len(datasets))
    for ax, ds in zip(axes, datasets, strict=True):
        cost, acc = fronts[ds]
        ax.step(cost, acc, where="post", color="black", lw=1.6, label="exact test front")
        for alg in algorithm_order(surfaces.get(ds, {})):
            points = surfaces[ds][alg]
            if len(points):
                ax.step(points[:, 0], points[:, 1], where="post", color=algorithm_color(alg),
                        lw=1.1, label=alg)
        ax.set_title(ds)
        ax.set_xlabel("FLOPs (M)")
        ax.set_ylabel("test accuracy (%)" if ax is axes[0] else "")
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def budgets_figure(budgets: pd.DataFrame, datasets: Sequence[str], algorithm: str) -> Any:
    """Test accuracy of the chosen model per FLOPs fraction, the three modes and perfect."""
    fig, axes = _axes(len(datasets))
    styles = {"one": ("-", "o"), "split": ("--", "s"), "separate": (":", "^")}
    for ax, ds in zip(axes, datasets, strict=True):
        part = budgets[(budgets["dataset"] == ds) & (budgets["algorithm"] == algorithm)]
        for mode, (ls, marker) in styles.items():
            line = part[part["mode"] == mode].sort_values("flops_fraction")
            if line.empty:
                continue
            x = line["flops_fraction"].to_numpy()
            drawn = ax.plot(x, line["mean_test"], ls=ls, marker=marker, label=mode)
            ax.fill_between(x, line["q25"], line["q75"], color=drawn[0].get_color(),
                            alpha=0.12, lw=0)
        perfect = part.drop_duplicates("flops_fraction").sort_values("flops_fraction")
        ax.plot(perfect["flops_fraction"], perfect["perfect"], color="black", lw=1,
                label="perfect search")
        ax.set_title(f"{ds} ({algorithm})")
        ax.set_xlabel("FLOPs limit (fraction of the largest model)")
        ax.set_ylabel("test accuracy of the chosen model (%)" if ax is axes[0] else "")
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def save(fig: Any, path: Any) -> None:
    """Write a PNG with no timestamp or software tag (equal figures, equal bytes)."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
