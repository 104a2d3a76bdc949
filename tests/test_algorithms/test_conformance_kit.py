"""The conformance kit catches the plugins it promises to catch (and passes a good one).

The bad plugins live at module level so a fresh interpreter can import them by name, as the
kit's cross-process determinism test needs.
"""

from __future__ import annotations

import numpy as np
import pytest

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.random_search import RandomSearch
from nas_harness.algorithms.testing import AlgorithmConformance, synthetic_landscape

KIT = AlgorithmConformance()
LATE = 400  # the bad plugins misbehave only after this many queries


class _Sequential(Algorithm):
    """Proposes ``self._plan`` one or more at a time; subclasses build the plan."""

    def __init__(self, context, rng, params=None):
        super().__init__(context, rng, params)
        self._plan = self._make_plan()
        self._done = 0

    def _make_plan(self) -> np.ndarray:
        feasible = self.context.feasible_indices()
        return self.rng.choice(feasible, size=min(self.context.budget, len(feasible)),
                               replace=False)

    def ask(self, max_batch):
        n = min(max_batch, len(self._plan) - self._done)
        return self._plan[self._done:self._done + max(n, 0)].astype(np.int64)

    def tell(self, indices, valid_acc):
        self._done += len(indices)


class LateInfeasible(_Sequential):
    """Feasible for 400 queries, then one architecture that breaks the constraint."""

    def _make_plan(self):
        plan = super()._make_plan()
        if len(plan) > LATE:
            infeasible = np.flatnonzero(self.context.flops > self.context.max_flops)
            plan[LATE] = infeasible[0]
        return plan


class DeclaredInfeasible(LateInfeasible):
    """The same, but declared: the kit then checks validity only."""

    proposes_infeasible = True


class DeclaredButInvalid(_Sequential):
    """Declares infeasible proposals, then proposes an index outside the space."""

    proposes_infeasible = True

    def _make_plan(self):
        plan = super()._make_plan()
        if len(plan) > LATE:
            plan[LATE] = self.context.space.size
        return plan


class HashOrdered(_Sequential):
    """Deterministic within one process, but ordered by ``hash(str(i))``."""

    def _make_plan(self):
        feasible = self.context.feasible_indices()
        order = sorted(feasible.tolist(), key=lambda i: hash(str(i)))
        return np.asarray(order[:self.context.budget], dtype=np.int64)


class StopsAfterOneBatch(_Sequential):
    """Gives up after its first batch although budget is left."""

    def ask(self, max_batch):
        return super().ask(max_batch)[:5] if self._done == 0 else np.empty(0, np.int64)


def test_a_late_infeasible_proposal_fails_the_full_budget_check():
    params = LateInfeasible.Params()
    # the old 60-query check never gets there ...
    KIT.test_proposals_are_valid_and_feasible(LateInfeasible, params, 0.1, 60)
    # ... the full-budget run does, and names the query
    with pytest.raises(AssertionError, match=f"query {LATE + 1}: architecture .* breaks"):
        KIT.test_proposals_are_valid_and_feasible(LateInfeasible, params, 0.5, 500)


def test_a_declared_infeasible_plugin_is_checked_for_validity_only():
    KIT.test_proposals_are_valid_and_feasible(DeclaredInfeasible, DeclaredInfeasible.Params(),
                                              0.5, 500)
    with pytest.raises(AssertionError, match=f"query {LATE + 1}: index 32768 is not"):
        KIT.test_proposals_are_valid_and_feasible(DeclaredButInvalid,
                                                  DeclaredButInvalid.Params(), 0.5, 500)


def test_a_hash_ordered_plugin_fails_the_cross_process_check():
    params = HashOrdered.Params()
    KIT.test_same_seed_same_proposals(HashOrdered, params)  # one process cannot tell
    with pytest.raises(AssertionError, match="PYTHONHASHSEED"):
        KIT.test_same_seed_same_proposals_across_processes(HashOrdered, params)


def test_the_batch_check_fails_an_algorithm_that_stops_after_one_batch():
    with pytest.raises(AssertionError, match=r"after a batch of 5, ask\(25\) gave 0"):
        KIT.test_tell_accepts_batches(StopsAfterOneBatch, StopsAfterOneBatch.Params())


def test_a_good_plugin_passes_the_same_checks():
    params = RandomSearch.Params()
    KIT.test_proposals_are_valid_and_feasible(RandomSearch, params, 0.5, 500)
    KIT.test_same_seed_same_proposals_across_processes(RandomSearch, params)
    KIT.test_tell_accepts_batches(RandomSearch, params)
    KIT.test_tell_accepts_batches(_Sequential, _Sequential.Params())


def test_a_late_infeasible_proposal_fails_the_real_table_run(table):
    del table  # only to skip without the benchmark data
    with pytest.raises(AssertionError, match=f"query {LATE + 1}: architecture"):
        KIT.test_runs_on_the_real_table(LateInfeasible, LateInfeasible.Params())
    KIT.test_runs_on_the_real_table(DeclaredInfeasible, DeclaredInfeasible.Params())


def test_the_synthetic_landscape_has_infeasible_architectures_to_propose():
    context, _ = synthetic_landscape(500)
    assert (context.flops > context.max_flops).any() and len(context.feasible_indices()) > 500
