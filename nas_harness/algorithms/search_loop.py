"""Drive one algorithm against one oracle until the budget is spent or the algorithm stops."""

from __future__ import annotations

import numpy as np

from nas_harness.algorithms.base import Algorithm
from nas_harness.benchmarks.errors import HarnessError, ProtocolError
from nas_harness.benchmarks.oracle import Oracle, QueryLog


class AlgorithmContractError(HarnessError, RuntimeError):
    """An algorithm broke the ask/tell contract (too many proposals, wrong type, ...)."""


_INT64 = np.dtype(np.int64)


def run_search(algorithm: Algorithm, oracle: Oracle) -> QueryLog:
    """Alternate ``ask`` and ``tell`` until the budget is spent or ``ask`` returns nothing.

    A run that ends without a single query measured nothing, so it is an error (the run is
    stored as failed, with this message), not a complete run with an empty trajectory.
    """
    ask, tell, query, evaluate = algorithm.ask, algorithm.tell, oracle.query, oracle.evaluate
    # under a time budget the clock is sequential (one simulated training at a time, as
    # NATS-Bench's simulate_train_eval loop), so proposals come one by one
    timed = oracle.timed
    charged = oracle.charges_signals  # proxy reads in ask may use up budget
    remaining = oracle.remaining
    while remaining > 0:
        max_batch = 1 if timed else remaining
        proposals = ask(max_batch)
        if type(proposals) is not np.ndarray or proposals.dtype is not _INT64 \
                or proposals.ndim != 1:
            proposals = _checked(algorithm, proposals)
        n = len(proposals)
        if n == 0:
            break
        if n > max_batch:
            raise AlgorithmContractError(
                f"{type(algorithm).__name__}.ask proposed {n} architectures but max_batch "
                f"was {max_batch}"
            )
        if charged and n > oracle.remaining:
            proposals = proposals[:oracle.remaining]
            n = len(proposals)
            if n == 0:
                break
        if n == 1 and not timed:  # sequential algorithms: skip numpy's per-call overhead
            accuracies = np.array([query(int(proposals[0]))])
        else:
            accuracies = evaluate(proposals)
        if len(accuracies) < n:  # a time budget ended the run mid-batch
            proposals = proposals[:len(accuracies)]
            if not len(proposals):
                break
        tell(proposals, accuracies)
        remaining = oracle.remaining
    if oracle.used == 0:
        raise _no_query(algorithm, oracle)
    return oracle.log


def _no_query(algorithm: Algorithm, oracle: Oracle) -> HarnessError:
    """Why a run ended before its first query, and what to change."""
    name = type(algorithm).__name__
    if oracle.timed and oracle.remaining == 0:
        return ProtocolError(
            f"the time budget of {oracle.protocol.budget_seconds:g} simulated seconds ended "
            f"before {name}'s first query finished; give a larger --budget-seconds")
    return AlgorithmContractError(
        f"{name}.ask proposed no architecture before its first query, so the run measured "
        "nothing; an algorithm must propose at least one architecture")


def _checked(algorithm: Algorithm, proposals: object) -> np.ndarray:
    """``ask``'s answer as a 1-D int64 array, or a contract error naming what came back."""
    arr = np.asarray(proposals)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise AlgorithmContractError(
            f"{type(algorithm).__name__}.ask must return a 1-D integer array of architecture "
            f"indices, got shape {arr.shape} dtype {arr.dtype}"
        )
    return arr.astype(np.int64, copy=False)
