"""Drive one algorithm against one oracle until the budget is spent or the algorithm stops."""

from __future__ import annotations

import numpy as np

from algorithms.base import Algorithm
from benchmarks.errors import HarnessError
from benchmarks.oracle import Oracle, QueryLog


class AlgorithmContractError(HarnessError, RuntimeError):
    """An algorithm broke the ask/tell contract (too many proposals, wrong type, ...)."""


def run_search(algorithm: Algorithm, oracle: Oracle) -> QueryLog:
    """Alternate ``ask`` and ``tell`` until the budget is spent or ``ask`` returns nothing."""
    name = type(algorithm).__name__
    while oracle.remaining > 0:
        # under a time budget the clock is sequential (one simulated training at a time, as
        # NATS-Bench's simulate_train_eval loop), so proposals come one by one
        max_batch = 1 if oracle.timed else oracle.remaining
        proposals = np.asarray(algorithm.ask(max_batch))
        if proposals.size == 0:
            break
        if proposals.ndim != 1 or proposals.dtype.kind not in "iu":
            raise AlgorithmContractError(
                f"{name}.ask must return a 1-D integer array of architecture indices, "
                f"got shape {proposals.shape} dtype {proposals.dtype}"
            )
        if len(proposals) > max_batch:
            raise AlgorithmContractError(
                f"{name}.ask proposed {len(proposals)} architectures but max_batch was "
                f"{max_batch}"
            )
        proposals = proposals.astype(np.int64, copy=False)
        if len(proposals) == 1 and not oracle.timed:  # skip numpy's per-call overhead
            accuracies = np.array([oracle.query(int(proposals[0]))])
        else:
            accuracies = oracle.evaluate(proposals)
        if len(accuracies) < len(proposals):  # a time budget ended the run mid-batch
            proposals = proposals[:len(accuracies)]
            if not len(proposals):
                break
        algorithm.tell(proposals, accuracies)
    return oracle.log
