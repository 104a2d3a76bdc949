"""Proxy against accuracy: one hexbin panel per proxy, one figure per dataset.

Validation accuracy (what algorithms see) on the y axis; the proxy on the x axis, logarithmic
for proxies that span orders of magnitude (``log_scale``) when all their values are positive.
Hexbin counts are log-coloured, since a few cells hold most of the 32,768 architectures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter


@dataclass(frozen=True)
class ProxyPanel:
    """One panel: a proxy's scores, the accuracy, and the Kendall tau-b to print on it."""

    name: str
    score: np.ndarray
    accuracy: np.ndarray
    kendall: float
    log_scale: bool


def proxy_figure(dataset_label: str, panels: Sequence[ProxyPanel]) -> Figure:
    """A row of hexbin panels (one per proxy) sharing the accuracy axis."""
    fig = Figure(figsize=(3.0 * len(panels), 3.0), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=True):
        keep = ~np.isnan(panel.score)
        x, y = panel.score[keep], panel.accuracy[keep]
        log = panel.log_scale and bool((x > 0).all())
        ax.hexbin(x, y, gridsize=40, bins="log", mincnt=1, cmap="viridis",
                  xscale="log" if log else "linear")
        ax.set_title(f"{panel.name}  (tau-b {panel.kendall:.3f})", fontsize=9)
        ax.set_xlabel(f"{panel.name}{' (log)' if log else ''}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_minor_formatter(NullFormatter())  # log axes: decades only
    axes[0].set_ylabel("validation accuracy (%)", fontsize=8)
    fig.suptitle(f"{dataset_label}: proxy against hp=90 validation accuracy", fontsize=10)
    return fig
