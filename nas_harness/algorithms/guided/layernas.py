"""LayerNAS that expands each layer's children in proxy order, best first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nas_harness.algorithms.guided._proxy import proxy_param
from nas_harness.algorithms.layernas import TUNING_RECORD, LayerNAS
from nas_harness.algorithms.params import check, param


class GuidedLayerNAS(LayerNAS):
    """LayerNAS with each layer step's queue ordered by the proxy, best first.

    Everything else is ``layernas``'s default (H=8, k=2, linear buckets, children evaluated
    as built, one pass). The order matters when the budget ends mid-layer: the children the
    proxy ranks lowest are the ones left unqueried (plain LayerNAS expands them in index
    order of their parents' rank).
    """

    @dataclass(frozen=True)
    class Params:
        """Parameters of proxy-guided LayerNAS (``layernas``'s main ones plus ``proxy``)."""

        proxy: str = proxy_param()
        num_buckets: int = param(8, "H: FLOPs buckets of the memo table",
                                 f"layernas's default ({TUNING_RECORD})", low=1, high=8)
        top_k: int = param(2, "k: candidates kept per bucket",
                           f"layernas's default ({TUNING_RECORD})", low=1, high=8)
        bucketing: str = "linear"
        infeasible: str = "as-built"
        unsearched: str = "max"
        layer_order: str = "forward"
        passes: int = 1

        def __post_init__(self) -> None:
            check(self.num_buckets >= 1, "num_buckets must be at least 1")
            check(self.top_k >= 1, "top_k must be at least 1")

    def _start_step(self) -> None:
        super()._start_step()
        queue = self._queue
        if len(queue):
            score = self.context.signal(self.params.proxy, queue)
            score = np.where(np.isnan(score), -np.inf, score)
            self._queue = queue[np.lexsort((np.arange(len(queue)), -score))]
