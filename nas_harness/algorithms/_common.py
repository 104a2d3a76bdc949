"""Small vectorised helpers shared by the built-in algorithms (not an algorithm module)."""

from __future__ import annotations

from bisect import bisect_right
from weakref import WeakKeyDictionary

import numpy as np

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.search_loop import AlgorithmContractError
from nas_harness.benchmarks.protocol import SearchContext
from nas_harness.benchmarks.space import SearchSpace

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

    def _next_of(self, sequence: np.ndarray, max_batch: int) -> np.ndarray:
        """The next architectures of a sequence fixed in advance, within the quota."""
        n = min(self._quota(max_batch), len(sequence) - self.num_proposed)
        if n <= 0:
            return EMPTY
        return self._proposed(sequence[self.num_proposed:self.num_proposed + n])

    def _accept(self, indices: np.ndarray, valid_acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Check that ``tell`` reports exactly the pending proposals; returns them as arrays."""
        pending = self._pending
        if (indices is pending and type(valid_acc) is np.ndarray
                and valid_acc.dtype == np.float64 and valid_acc.shape == pending.shape):
            # the runner hands back the very array ask returned: nothing to compare
            self._pending = EMPTY
            return pending, valid_acc
        idx = np.asarray(indices, dtype=np.int64)
        acc = np.asarray(valid_acc, dtype=np.float64)
        if idx.shape != pending.shape or not np.array_equal(idx, pending):
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


_FEASIBLE: WeakKeyDictionary[SearchContext, np.ndarray] = WeakKeyDictionary()


def feasible_indices(context: SearchContext) -> np.ndarray:
    """``context.feasible_indices()``, computed once per context (read-only).

    The oracle shares one context between the runs of a sweep, so the scan of the whole
    space is done once per process, not once per run.
    """
    hit = _FEASIBLE.get(context)
    if hit is None:
        hit = context.feasible_indices()
        hit.flags.writeable = False
        _FEASIBLE[context] = hit
    return hit


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
        sizes, weights = space.sizes, space.weights
        width = int(sizes.max())
        self.space = space
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
        return self.space.positions(int(index))

    def neighbours(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """``(indices, probabilities)`` of all one-layer mutations of ``index``."""
        pos = self.positions(index)
        base = int(index) - pos * self.weights                           # layer zeroed
        cand = base[:, None] + self.offsets                               # (L, K)
        keep = self.valid_option.copy()
        keep[np.arange(len(pos)), pos] = False                            # a different option
        return cand[keep], self.prob[keep]

    def allowed_mutations(self, index: int, allowed: np.ndarray) -> AllowedMutations | None:
        """The allowed one-layer mutations of ``index`` and their CDF; ``None`` if none is."""
        cand, prob = self.neighbours(index)
        ok = allowed[cand]
        if not ok.any():
            return None
        cdf = np.cumsum(prob[ok])
        return AllowedMutations(cand[ok].tolist(), cdf.tolist())

    def mutate(self, rng: np.random.Generator, index: int, allowed: np.ndarray) -> int | None:
        """A random one-layer mutation of ``index`` among those where ``allowed[i]`` holds.

        Equivalent to re-drawing the mutation until it is allowed; ``None`` if none is.
        """
        table = self.allowed_mutations(index, allowed)
        return None if table is None else table.draw(rng)

    def mutator(self, allowed: np.ndarray) -> Mutator:
        """:meth:`mutate` for a fixed ``allowed`` mask, remembering each parent's mutations."""
        return Mutator(self, allowed)


class AllowedMutations:
    """The allowed one-layer mutations of one parent, as Python lists (cheap to draw from)."""

    __slots__ = ("cdf", "children", "last", "total")

    def __init__(self, children: list[int], cdf: list[float]) -> None:
        self.children = children
        self.cdf = cdf
        self.total = cdf[-1]
        self.last = len(children) - 1

    def draw(self, rng: np.random.Generator) -> int:
        """One child by inverse CDF on one ``rng.random()`` (as ``np.searchsorted``, right)."""
        pick = bisect_right(self.cdf, rng.random() * self.total)
        return self.children[pick if pick < self.last else self.last]


_MUTATION_TABLES: dict[tuple[tuple[int, ...], bytes], dict[int, AllowedMutations | None]] = {}
_MAX_MASKS = 8


def _shared_tables(key: tuple[tuple[int, ...], bytes]) -> dict[int, AllowedMutations | None]:
    """Per-process memo of parent -> allowed mutations, one per (space, mask).

    The runs of a sweep on one dataset share the mask, and mostly their good parents too,
    so a worker lists each parent's mutations once for all its runs. A few masks are kept
    (least recently created dropped): memory is bounded by the space, not by the runs.
    """
    tables = _MUTATION_TABLES.get(key)
    if tables is None:
        if len(_MUTATION_TABLES) >= _MAX_MASKS:
            del _MUTATION_TABLES[next(iter(_MUTATION_TABLES))]
        tables = _MUTATION_TABLES[key] = {}
    return tables


class Mutator:
    """Draws of :meth:`Neighbourhood.mutate` against a mask that never changes.

    Evolution mutates the same parents many times; each parent's allowed mutations are
    listed once (in plain Python: 35 candidates cost less than numpy's per-call overhead)
    and every draw after that is one uniform and a bisection. The draws are exactly those
    of ``mutate``: same candidates in the same order, the same cumulative sums, the same
    uniform.
    """

    def __init__(self, hood: Neighbourhood, allowed: np.ndarray) -> None:
        self._allowed = np.asarray(allowed, dtype=bool).tobytes()   # one byte per index
        self._weights = hood.weights.tolist()
        self._sizes = hood.sizes.tolist()
        self._prob = [row[0] for row in hood.prob.tolist()]          # per layer
        self._tables = _shared_tables((tuple(self._sizes), self._allowed))

    def _table(self, index: int) -> AllowedMutations | None:
        allowed = self._allowed
        children: list[int] = []
        cdf: list[float] = []
        total = 0.0
        for weight, size, prob in zip(self._weights, self._sizes, self._prob, strict=True):
            current = (index // weight) % size
            base = index - current * weight
            for option in range(size):
                child = base + option * weight
                if option != current and allowed[child]:
                    total = total + prob if cdf else prob     # as np.cumsum, left to right
                    children.append(child)
                    cdf.append(total)
        table = AllowedMutations(children, cdf) if children else None
        self._tables[index] = table
        return table

    def __getstate__(self) -> dict[str, object]:
        """Pickle without the memo (it is shared per process and rebuilt on demand)."""
        return {k: v for k, v in self.__dict__.items() if k != "_tables"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._tables = _shared_tables((tuple(self._sizes), self._allowed))

    def __call__(self, rng: np.random.Generator, index: int) -> int | None:
        """A random allowed one-layer mutation of ``index``; ``None`` if none is allowed."""
        tables = self._tables
        table = tables[index] if index in tables else self._table(index)
        return None if table is None else table.draw(rng)
