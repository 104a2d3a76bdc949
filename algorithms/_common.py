"""Small vectorised helpers shared by the built-in algorithms (not an algorithm module)."""

from __future__ import annotations

import numpy as np

from algorithms.base import Algorithm
from algorithms.search_loop import AlgorithmContractError
from benchmarks.protocol import SearchContext
from benchmarks.space import SearchSpace

EMPTY = np.empty(0, dtype=np.int64)


class BudgetedAlgorithm(Algorithm):
    """An :class:`Algorithm` that counts its proposals and checks that ``tell`` matches ``ask``.

    Subclasses call :meth:`_quota` for how many they may propose now and :meth:`_proposed`
    with what they return; ``tell`` should start with :meth:`_accept`.
    """

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: object | None = None) -> None:
        super().__init__(context, rng, params)
        self.num_proposed = 0
        self._pending: np.ndarray = EMPTY

    def _quota(self, max_batch: int) -> int:
        """Proposals allowed now: at most ``max_batch`` and what is left of the budget."""
        if self._pending.size:
            raise AlgorithmContractError(
                f"{type(self).__name__}.ask called again before tell() of the last proposals"
            )
        return max(0, min(int(max_batch), self.context.budget - self.num_proposed))

    def _proposed(self, indices: np.ndarray) -> np.ndarray:
        out = np.asarray(indices, dtype=np.int64)
        self.num_proposed += len(out)
        self._pending = out
        return out

    def _accept(self, indices: np.ndarray, valid_acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Check that ``tell`` reports exactly the pending proposals; returns them as arrays."""
        idx = np.asarray(indices, dtype=np.int64)
        acc = np.asarray(valid_acc, dtype=np.float64)
        if idx.shape != self._pending.shape or not np.array_equal(idx, self._pending):
            raise AlgorithmContractError(
                f"{type(self).__name__}.tell must receive exactly the indices of the last ask "
                f"({len(self._pending)} pending), got {len(idx)}"
            )
        if acc.shape != idx.shape:
            raise AlgorithmContractError(
                f"tell got {len(acc)} accuracies for {len(idx)} architectures"
            )
        self._pending = EMPTY
        return idx, acc


def sample_feasible(rng: np.random.Generator, feasible: np.ndarray, n: int,
                    replace: bool = True) -> np.ndarray:
    """``n`` indices uniform over ``feasible`` (exactly rejection sampling on the free cost)."""
    if replace:
        return feasible[rng.integers(0, len(feasible), size=n)]
    return rng.choice(feasible, size=min(n, len(feasible)), replace=False)


class Neighbourhood:
    """One-layer mutations of an architecture index, by index arithmetic (no Python loops).

    ``neighbours(i)`` lists every architecture that differs from ``i`` in exactly one layer,
    with the probability of each under "pick a layer uniformly, then a different option of
    it uniformly".
    """

    def __init__(self, space: SearchSpace) -> None:
        sizes = np.asarray(space.num_options, dtype=np.int64)
        weights = np.ones(len(sizes), dtype=np.int64)
        for layer in range(len(sizes) - 2, -1, -1):
            weights[layer] = weights[layer + 1] * sizes[layer + 1]
        width = int(sizes.max())
        self.sizes = sizes
        self.weights = weights
        opts = np.arange(width)
        self.valid_option = opts[None, :] < sizes[:, None]               # (L, K)
        self.offsets = opts[None, :] * weights[:, None]                   # (L, K)
        prob = np.where(self.valid_option,
                        1.0 / (len(sizes) * np.maximum(sizes - 1, 1))[:, None], 0.0)
        self.prob = prob

    def positions(self, index: int) -> np.ndarray:
        """Option ordinal of each layer of one index."""
        return (int(index) // self.weights) % self.sizes

    def neighbours(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """``(indices, probabilities)`` of all one-layer mutations of ``index``."""
        pos = self.positions(index)
        base = int(index) - pos * self.weights                           # layer zeroed
        cand = base[:, None] + self.offsets                               # (L, K)
        keep = self.valid_option.copy()
        keep[np.arange(len(pos)), pos] = False                            # a different option
        return cand[keep], self.prob[keep]

    def mutate(self, rng: np.random.Generator, index: int, allowed: np.ndarray) -> int | None:
        """A random one-layer mutation of ``index`` among those where ``allowed[i]`` holds.

        Equivalent to re-drawing the mutation until it is allowed; ``None`` if none is.
        """
        cand, prob = self.neighbours(index)
        ok = allowed[cand]
        if not ok.any():
            return None
        cand, prob = cand[ok], prob[ok]
        cdf = np.cumsum(prob)
        pick = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
        return int(cand[min(pick, len(cand) - 1)])
