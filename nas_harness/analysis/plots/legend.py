"""A figure legend below the panels that never runs off the figure's sides.

``fig.legend(loc="outside lower center", ncols=k)`` keeps its width whatever the figure's: with
the libraries experiment's 16 algorithm names in 5 columns it is wider than a two-panel figure
and constrained layout crops both ends. :func:`figure_legend` measures the legend (Agg text
metrics, those of the PNG) and drops columns until it fits, so a legend that fits already is
drawn exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend


def figure_legend(fig: Figure, handles: Sequence[Any], labels: Sequence[str], *,
                  max_cols: int, **kwargs: Any) -> Legend:
    """``fig.legend(..., loc="outside lower center")`` in at most ``max_cols`` columns that fit."""
    renderer = RendererAgg(int(fig.bbox.width), int(fig.bbox.height), fig.dpi)
    ncols = max(1, min(len(labels), max_cols))
    while True:
        legend = fig.legend(list(handles), list(labels), loc="outside lower center",
                            ncols=ncols, **kwargs)
        if ncols == 1 or legend.get_window_extent(renderer).width <= fig.bbox.width:
            return legend
        legend.remove()
        ncols -= 1
