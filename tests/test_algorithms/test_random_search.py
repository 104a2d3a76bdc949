"""Random search by value: the proposals are the generator's draws over the feasible set."""

import numpy as np
import pytest

from nas_harness.algorithms.random_search import RandomSearch
from nas_harness.algorithms.testing import synthetic_landscape


@pytest.mark.parametrize("replace", [False, True])
def test_the_proposals_are_the_draws_in_order_in_any_batches(replace):
    context, acc = synthetic_landscape(40, max_flops_fraction=0.3)
    feasible = context.feasible_indices()
    rng = np.random.default_rng(9)
    expected = (feasible[rng.integers(0, len(feasible), size=40)] if replace else
                rng.choice(feasible, size=40, replace=False))
    algo = RandomSearch(context, np.random.default_rng(9), RandomSearch.Params(replace=replace))
    got = []
    for max_batch in (1, 7, 0, 15, 100):
        asked = algo.ask(max_batch)
        assert len(asked) == min(max_batch, 40 - len(got))
        got += asked.tolist()
        if len(asked):
            algo.tell(asked, acc[asked])
    assert got == expected.tolist() and len(got) == 40
    assert algo.ask(5).size == 0 and algo.num_proposed == 40


def test_without_replacement_a_feasible_set_smaller_than_the_budget_ends_the_run_early():
    context, acc = synthetic_landscape(200, max_flops_fraction=0.02)
    n = len(context.feasible_indices())
    assert n < 200
    algo = RandomSearch(context, np.random.default_rng(0))
    first = algo.ask(500)
    assert len(first) == n and sorted(first.tolist()) == context.feasible_indices().tolist()
    algo.tell(first, acc[first])
    assert algo.ask(500).size == 0


def test_the_preset_draws_with_replacement():
    assert RandomSearch.presets["natsbench"].params == {"replace": True}
    assert RandomSearch.Params().replace is False
