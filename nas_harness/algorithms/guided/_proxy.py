"""The parameter every guided algorithm shares: which proxy it reads."""

from __future__ import annotations

import numpy as np

from nas_harness.algorithms.params import param
from nas_harness.benchmarks.protocol import SearchContext

PROXY_SOURCE = "harness choice: MONET's NTK score ranks best among the built-in proxies " \
               "on the validation accuracy the algorithms see (results/proxies/correlations.csv)"


def proxy_param() -> str:
    """The ``proxy`` dataclass field (a name the protocol must declare as a free signal)."""
    return param("ntk", "the training-free proxy to read (declare it with --free-signals)",
                 PROXY_SOURCE)


def ranked(context: SearchContext, proxy: str, indices: np.ndarray) -> np.ndarray:
    """``indices`` sorted by the proxy, best first (ties: lower index first; unscored last)."""
    score = context.signal(proxy, indices)
    score = np.where(np.isnan(score), -np.inf, score)
    return indices[np.lexsort((indices, -score))]
