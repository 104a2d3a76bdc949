"""The synthetic landscape and the driver the conformance kit runs algorithms on (no data)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nas_harness.algorithms.base import Algorithm
from nas_harness.benchmarks.protocol import SearchContext
from nas_harness.benchmarks.space import SSS, SearchSpace

FULL_BUDGET = 500  # the harness's default budget (nas_harness.benchmarks.protocol.DEFAULT_BUDGET)

_NP_LEGACY = ("seed", "rand", "randn", "random", "random_sample", "ranf", "sample", "randint",
              "random_integers", "choice", "shuffle", "permutation", "normal", "uniform",
              "standard_normal", "binomial", "poisson", "exponential", "beta", "gamma",
              "multinomial", "dirichlet", "bytes", "set_state")
_PY_RANDOM = ("random", "seed", "randint", "randrange", "choice", "choices", "shuffle",
              "sample", "uniform", "gauss", "normalvariate", "getrandbits", "triangular",
              "betavariate", "expovariate", "setstate")


def _np_global_state() -> tuple[Any, ...]:
    """NumPy's legacy global state: a tuple, though ``get_state()`` is typed ``dict | tuple``."""
    state = np.random.get_state()  # noqa: NPY002 - checking it is untouched
    assert isinstance(state, tuple)
    return state


def synthetic_landscape(budget: int, seed: int = 0, space: SearchSpace = SSS,
                        max_flops_fraction: float = 0.5) -> tuple[SearchContext, np.ndarray]:
    """A context (read-only arrays) and validation accuracies of a made-up, structured task.

    FLOPs grow with the products of neighbouring widths (as in a CNN); accuracy saturates in
    width with a random weight per layer plus noise, all from ``default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    ch = space.channels(space.all_indices()).astype(float)
    top = max(max(o) for o in space.options)
    flops = 0.01 * (9 * ch[:, 0] + (ch[:, :-1] * ch[:, 1:]).sum(axis=1)) + 0.05
    weight = rng.uniform(0.5, 2.0, space.num_layers)
    acc = 70 + (weight * (1 - np.exp(-3 * ch / top))).sum(axis=1) * 4
    acc = acc + rng.normal(0, 0.4, len(acc))
    params = (ch.sum(axis=1) * 1000).astype(np.int64)
    for arr in (flops, acc, params):
        arr.setflags(write=False)
    context = SearchContext(space=space, flops=flops, params=params,
                            max_flops=float(max_flops_fraction * flops.max()), budget=budget)
    return context, acc


def drive(algorithm: Algorithm, valid_acc: np.ndarray, budget: int,
          schedule: Sequence[int] | None = None,
          check: Callable[[np.ndarray], None] | None = None,
          steps: int | None = None) -> list[np.ndarray]:
    """Run the ask/tell loop as the harness does; returns every ``ask``'s proposals.

    ``schedule`` caps ``max_batch`` cyclically (default: the remaining budget); ``steps``
    stops after that many asks. Contract violations fail the calling test.
    """
    asked: list[np.ndarray] = []
    remaining = budget
    step = 0
    while remaining > 0 and (steps is None or step < steps):
        max_batch = remaining if not schedule else min(remaining, schedule[step % len(schedule)])
        proposals = np.asarray(algorithm.ask(max_batch))
        step += 1
        assert proposals.ndim == 1, f"ask returned shape {proposals.shape}, not 1-D"
        if proposals.size == 0:
            break
        assert proposals.dtype.kind in "iu", f"ask returned dtype {proposals.dtype}"
        assert len(proposals) <= max_batch, (
            f"ask proposed {len(proposals)} > max_batch={max_batch}")
        if check is not None:
            check(proposals)
        asked.append(proposals.astype(np.int64))
        algorithm.tell(proposals.astype(np.int64), valid_acc[proposals])
        remaining -= len(proposals)
    return asked


def proposes_infeasible(cls: type[Algorithm]) -> bool:
    """Whether ``cls`` declares that it proposes infeasible architectures on purpose."""
    return bool(getattr(cls, "proposes_infeasible", False))


def proposal_checker(context: SearchContext, cls: type[Algorithm],
                     seen: list[int] | None = None) -> Callable[[np.ndarray], None]:
    """A ``drive`` check: every proposal a valid index and (unless declared) feasible.

    The failure names the query number of the first offending proposal.
    """
    count = [0] if seen is None else seen
    feasible_only = not proposes_infeasible(cls)

    def check(proposals: np.ndarray) -> None:
        bad = (proposals < 0) | (proposals >= context.space.size)
        assert not bad.any(), (
            f"query {count[0] + int(np.argmax(bad)) + 1}: index {proposals[bad][0]} is not an "
            f"architecture of the space (0..{context.space.size - 1})")
        if feasible_only:
            ok = context.is_feasible(proposals)
            assert ok.all(), (
                f"query {count[0] + int(np.argmin(ok)) + 1}: architecture {proposals[~ok][0]} "
                f"breaks the FLOPs constraint (declare proposes_infeasible = True if that "
                f"is intended)")
        count[0] += len(proposals)

    return check


def synthetic_proposals(cls: type[Algorithm], params: Any, budget: int, seed: int,
                        schedule: Sequence[int] | None = None) -> list[int]:
    """Every proposal of one run on the synthetic landscape, in order."""
    context, acc = synthetic_landscape(budget)
    asked = drive(cls(context, np.random.default_rng(seed), params), acc, budget, schedule)
    return [int(i) for a in asked for i in a]
