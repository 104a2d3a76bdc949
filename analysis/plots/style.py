"""Fixed look of every figure: one colour per algorithm, the same in every panel and report.

Known algorithms get a hand-picked colour (colour-blind-friendly Okabe-Ito / tab10 tones);
any other name (a plugin) gets a colour derived from a hash of its name, so it is stable
across runs, machines and Python processes (``hash()`` is salted, sha256 is not).
"""

from __future__ import annotations

import colorsys
import hashlib
from collections.abc import Iterable

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
    "layernas:stand-in": "#882255",
    "local_search": "#e69f00",
    "bohb": "#56b4e9",
    "hyperband": "#17becf",
    "bananas": "#bcbd22",
    "smac": "#8c564b",
    "tpe": "#9467bd",
    "channel_interpolation": "#000000",
}
"""Colour of each known algorithm name (lower case)."""

REFERENCE_STYLE: dict[str, dict[str, object]] = {
    "best_by_valid": {"color": "#222222", "linestyle": "--", "linewidth": 1.1},
    "best_test": {"color": "#6a51a3", "linestyle": (0, (6, 3)), "linewidth": 1.1},
}
"""Line style of the two reference lines (both dashed)."""

BAND_ALPHA = 0.18
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


def algorithm_colors(names: Iterable[str]) -> dict[str, str]:
    """Colours of several algorithms, in the given order."""
    return {name: algorithm_color(name) for name in names}


def algorithm_order(names: Iterable[str]) -> list[str]:
    """The plotting order: known algorithms in :data:`ALGORITHM_COLORS` order, then the rest."""
    known = list(ALGORITHM_COLORS)
    unique = sorted(set(names))
    return sorted(unique, key=lambda n: (known.index(n.lower()) if n.lower() in known
                                         else len(known), n))
