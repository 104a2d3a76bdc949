"""Fixed look of every figure: one colour per algorithm, the same in every panel and report.

The built-in algorithms take the Okabe-Ito colours, chosen to stay apart under the common
colour-vision deficiencies (random search is neutral grey), and where two of them share a
hue family (evolution and the LayerNAS stand-in: vermillion and orange; REINFORCE and PPO:
blues and green, whose curves run close) one of the pair is dashed, so the lines differ in
grey scale too. The library adapters take Paul Tol's colours, distinct from those. Any other
name (a plugin) gets a colour derived from a hash of its name, so it is stable across runs,
machines and Python processes (``hash()`` is salted, sha256 is not). Sixteen colours cannot
all be told apart, so a library adapter's lines also carry its library's dash pattern
(``library:optimizer``: Optuna dashed, Nevergrad dotted, PyGlove dash-dotted); plugins are
solid.
"""

from __future__ import annotations

import colorsys
import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.typing import LineStyleType

ALGORITHM_COLORS: dict[str, str] = {
    "random": "#7f7f7f",
    "random_search": "#7f7f7f",
    "rs": "#7f7f7f",
    "rea": "#d55e00",
    "regularized_evolution": "#d55e00",
    "evolution": "#d55e00",
    "reinforce": "#0072b2",
    "ppo": "#009e73",
    "layernas": "#cc79a7",
    "layernas:stand-in": "#e69f00",
    "local_search": "#ddcc77",
    "bohb": "#56b4e9",
    "hyperband": "#17becf",
    "bananas": "#bcbd22",
    "smac": "#8c564b",
    "tpe": "#9467bd",
    "channel_interpolation": "#000000",
    "optuna:tpe": "#9467bd",
    "optuna:random": "#8c564b",
    "optuna:qmc": "#17becf",
    "optuna:nsga2": "#bcbd22",
    "optuna:gp": "#999933",
    "nevergrad:ngopt": "#882255",
    "nevergrad:discreteoneplusone": "#56b4e9",
    "nevergrad:portfoliodiscreteoneplusone": "#332288",
    "nevergrad:discretelengleroneplusone": "#44aa99",
    "pyglove:evolution": "#ee3377",
    "pyglove:random": "#661100",
}
"""Colour of each known algorithm name (lower case)."""

OKABE_ITO: tuple[str, ...] = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00",
                              "#cc79a7", "#000000")
"""The Okabe-Ito colour-blind-safe palette (Okabe and Ito, 2008)."""

BUILTIN_LINESTYLES: dict[str, LineStyleType] = {
    "ppo": (0, (4.0, 1.5)),
    "layernas:stand-in": (0, (7.0, 2.0)),
}
"""Dash pattern of the built-ins that share a hue family with another (the rest are solid)."""

REFERENCE_STYLE: dict[str, dict[str, object]] = {
    "best_by_valid": {"color": "#222222", "linestyle": "--", "linewidth": 1.1},
    "best_test": {"color": "#6a51a3", "linestyle": (0, (6, 3)), "linewidth": 1.1},
}
"""Line style of the two reference lines (both dashed)."""

LIBRARY_LINESTYLES: dict[str, LineStyleType] = {
    "optuna": (0, (5.0, 2.0)),
    "nevergrad": (0, (1.0, 1.5)),
    "pyglove": (0, (6.0, 1.5, 1.5, 1.5)),
}
"""Dash pattern of the lines of each library's adapters (the part of the name before ':')."""

BAND_ALPHA = 0.08
"""Opacity of a 25-75% band's fill: six overlapping bands stay readable."""
BAND_EDGE_ALPHA = 0.55
"""Opacity of the thin line along a band's edges (the quartiles), drawn over the light fill."""
FEASIBLE_COLOR = "#c8c8c8"


def fallback_color(name: str) -> str:
    """A deterministic, reasonably saturated colour for a name without a fixed one."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536.0
    light = 0.38 + 0.14 * digest[2] / 255.0
    sat = 0.55 + 0.35 * digest[3] / 255.0
    r, g, b = colorsys.hls_to_rgb(hue, light, sat)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def algorithm_color(name: str) -> str:
    """The colour of an algorithm: its fixed one, else the hashed fallback."""
    return ALGORITHM_COLORS.get(name.lower(), fallback_color(name))


def algorithm_linestyle(name: str) -> LineStyleType:
    """The line style of an algorithm: its own, else its library's dash pattern, else solid."""
    if name.lower() in BUILTIN_LINESTYLES:
        return BUILTIN_LINESTYLES[name.lower()]
    library, _, optimizer = name.partition(":")
    return LIBRARY_LINESTYLES.get(library.lower(), "-") if optimizer else "-"


def algorithm_colors(names: Iterable[str]) -> dict[str, str]:
    """Colours of several algorithms, in the given order."""
    return {name: algorithm_color(name) for name in names}


def algorithm_order(names: Iterable[str]) -> list[str]:
    """The plotting order: known algorithms in :data:`ALGORITHM_COLORS` order, then the rest."""
    known = list(ALGORITHM_COLORS)
    unique = sorted(set(names))
    return sorted(unique, key=lambda n: (known.index(n.lower()) if n.lower() in known
                                         else len(known), n))
