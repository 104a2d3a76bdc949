"""The built-in algorithms' shared parts by value (synthetic contexts).

Budget bookkeeping, feasible sampling, one-layer neighbourhoods on uneven layers, the mutation
tables' memo.
"""

from __future__ import annotations

import numpy as np
import pytest

from nas_harness.algorithms import _common as common
from nas_harness.algorithms._common import (
    AllowedMutations,
    BudgetedAlgorithm,
    Mutator,
    Neighbourhood,
    feasible_indices,
    sample_feasible,
)
from nas_harness.algorithms.search_loop import AlgorithmContractError
from nas_harness.benchmarks.protocol import SearchContext
from nas_harness.benchmarks.space import SearchSpace

UNEVEN = SearchSpace(options=((8,), (8, 16), (8, 16, 24)))  # 1, 2 and 3 options: 6 archs


def _context(space=UNEVEN, budget=5, flops=None, max_flops=10.0):
    flops = np.arange(space.size, dtype=float) if flops is None else np.asarray(flops, float)
    return SearchContext(space=space, flops=flops, params=np.zeros(space.size, np.int64),
                         max_flops=max_flops, budget=budget)


class Counter(BudgetedAlgorithm):
    name = "counter"

    def ask(self, max_batch):
        n = self._quota(max_batch)
        return self._proposed(np.arange(n))

    def tell(self, indices, valid_acc):
        return self._accept(indices, valid_acc)


def test_the_quota_is_the_smaller_of_max_batch_and_what_is_left():
    algo = Counter(_context(budget=5), np.random.default_rng(0))
    first = algo.ask(3)
    assert first.tolist() == [0, 1, 2] and first.dtype == np.int64 and algo.num_proposed == 3
    algo.tell(first, np.zeros(3))
    assert algo.ask(10).tolist() == [0, 1] and algo.num_proposed == 5
    algo.tell(np.array([0, 1]), [1.0, 2.0])
    assert algo.ask(10).tolist() == [] and algo._quota(-3) == 0 and algo._quota(0) == 0


def test_ask_again_before_tell_is_a_contract_error():
    algo = Counter(_context(), np.random.default_rng(0))
    algo.ask(2)
    with pytest.raises(AlgorithmContractError) as exc:
        algo.ask(1)
    assert str(exc.value) == "Counter.ask called again before tell() of the last proposals"


def test_tell_gets_the_pending_proposals_back_as_arrays():
    algo = Counter(_context(), np.random.default_rng(0))
    asked = algo.ask(2)
    acc = np.array([0.5, 0.25])
    idx, got = algo.tell(asked, acc)
    assert idx is asked and got is acc  # the very arrays: nothing to convert
    algo.ask(2)
    idx, got = algo.tell([0, 1], [1, 2])
    assert idx.dtype == np.int64 and got.dtype == np.float64 and got.tolist() == [1.0, 2.0]
    assert algo._pending.size == 0


@pytest.mark.parametrize(("indices", "acc", "message"), [
    ([0], [1.0], "Counter.tell must receive exactly the indices of the last ask (2 pending), "
                 "got 1"),
    ([1, 0], [1.0, 2.0], "Counter.tell must receive exactly the indices of the last ask "
                         "(2 pending), got 2"),
    ([0, 1], [1.0], "tell got 1 accuracies for 2 architectures"),
    ([0, 1], [1.0, 2.0, 3.0], "tell got 3 accuracies for 2 architectures"),
])
def test_tell_with_other_indices_or_accuracies_is_a_contract_error(indices, acc, message):
    algo = Counter(_context(), np.random.default_rng(0))
    algo.ask(2)
    with pytest.raises(AlgorithmContractError) as exc:
        algo.tell(indices, acc)
    assert str(exc.value) == message


def test_a_float32_accuracy_array_is_converted_not_passed_through():
    algo = Counter(_context(), np.random.default_rng(0))
    asked = algo.ask(2)
    _, got = algo.tell(asked, np.array([0.5, 1.5], dtype=np.float32))
    assert got.dtype == np.float64 and got.tolist() == [0.5, 1.5]


def test_feasible_indices_are_the_context_s_computed_once_and_read_only():
    context = _context(flops=[1.0, 5.0, 10.0, 11.0, 3.0, 10.5], max_flops=10.0)
    first = feasible_indices(context)
    assert first.tolist() == [0, 1, 2, 4] and not first.flags.writeable
    assert feasible_indices(context) is first
    other = _context(flops=[1.0, 5.0, 10.0, 11.0, 3.0, 10.5], max_flops=3.0)
    assert feasible_indices(other).tolist() == [0, 4]


def test_sample_feasible_with_and_without_replacement():
    feasible = np.array([3, 7, 9, 12])
    got = sample_feasible(np.random.default_rng(5), feasible, 10)
    np.testing.assert_array_equal(got, feasible[np.random.default_rng(5).integers(0, 4, 10)])
    unique = sample_feasible(np.random.default_rng(5), feasible, 3, replace=False)
    np.testing.assert_array_equal(
        unique, np.random.default_rng(5).choice(feasible, size=3, replace=False))
    every = sample_feasible(np.random.default_rng(5), feasible, 10, replace=False)
    assert sorted(every.tolist()) == [3, 7, 9, 12]


def test_the_neighbourhood_of_uneven_layers():
    hood = Neighbourhood(UNEVEN)
    assert hood.sizes.tolist() == [1, 2, 3] and hood.weights.tolist() == [6, 3, 1]
    assert hood.valid_option.tolist() == [[True, False, False], [True, True, False],
                                          [True, True, True]]
    assert hood.offsets.tolist() == [[0, 6, 12], [0, 3, 6], [0, 1, 2]]
    index = int(UNEVEN.parse("8:16:8"))  # positions (0, 1, 0)
    assert index == 3 and hood.positions(index).tolist() == [0, 1, 0]
    cand, prob = hood.neighbours(index)
    # a layer uniformly (1/3), then a different option of it uniformly; the one-option
    # layer has none to offer
    assert cand.tolist() == [0, 4, 5]
    np.testing.assert_allclose(prob, [1 / 3, 1 / 6, 1 / 6])


def test_allowed_mutations_keep_the_allowed_children_and_their_cumulative_weights():
    hood = Neighbourhood(UNEVEN)
    allowed = np.array([True, True, True, True, False, True])
    table = hood.allowed_mutations(3, allowed)
    assert table.children == [0, 5]
    np.testing.assert_allclose(table.cdf, [1 / 3, 1 / 2])
    assert table.total == table.cdf[-1] and table.last == 1
    assert hood.allowed_mutations(3, np.zeros(6, bool)) is None
    assert hood.mutate(np.random.default_rng(0), 3, np.zeros(6, bool)) is None


class _U:
    """A generator stand-in whose random() returns the given values in turn."""

    def __init__(self, *values):
        self.values = list(values)

    def random(self):
        return self.values.pop(0)


def test_a_draw_is_the_inverse_cdf_of_one_uniform_right_sided():
    table = AllowedMutations([10, 20, 30], [0.25, 0.5, 1.0])
    # u * total at 0.1 -> first; exactly 0.25 -> second (right side); 0.75 -> third
    assert [table.draw(_U(u)) for u in (0.1, 0.25, 0.75, 0.0, 0.999)] == [10, 20, 30, 10, 30]
    half = AllowedMutations([1, 2], [0.2, 0.4])  # total 0.4: u is scaled by it
    assert [half.draw(_U(u)) for u in (0.49, 0.5, 0.99)] == [1, 2, 2]


def test_the_mutator_draws_what_mutate_draws_on_uneven_layers():
    hood = Neighbourhood(UNEVEN)
    allowed = np.array([True, True, False, True, True, True])
    mutator = hood.mutator(allowed)
    for index in range(UNEVEN.size):
        a, b = np.random.default_rng(index), np.random.default_rng(index)
        assert [mutator(a, index) for _ in range(20)] == \
            [hood.mutate(b, index, allowed) for _ in range(20)]
    none = hood.mutator(np.zeros(6, bool))
    assert none(np.random.default_rng(0), 3) is None and none._tables[3] is None


def test_the_memo_keeps_a_bounded_number_of_masks_and_drops_the_oldest(monkeypatch):
    monkeypatch.setattr(common, "_MUTATION_TABLES", {})
    hood = Neighbourhood(UNEVEN)
    masks = [np.array([bool((k >> i) & 1) for i in range(6)]) for k in range(1, 11)]
    mutators = [Mutator(hood, m) for m in masks]
    keys = list(common._MUTATION_TABLES)
    assert len(keys) == common._MAX_MASKS == 8
    assert keys[0] == ((1, 2, 3), masks[2].tobytes())  # the first two masks were dropped
    assert keys[-1] == ((1, 2, 3), masks[-1].tobytes())
    # the same mask shares one memo
    again = Mutator(hood, masks[-1])
    assert again._tables is mutators[-1]._tables


def test_tell_checks_whatever_it_is_given_when_it_is_not_ask_s_own_array():
    algo = Counter(_context(), np.random.default_rng(0))
    asked = algo.ask(2)
    # another array with the same values and a float64 accuracy array: checked, accepted
    idx, _ = algo.tell(np.array([0, 1], dtype=np.int32), np.array([1.0, 2.0]))
    assert idx.dtype == np.int64 and idx.tolist() == [0, 1] and idx is not asked
    algo.ask(2)
    with pytest.raises(AlgorithmContractError, match="exactly the indices"):
        algo.tell(np.array([1, 0]), np.array([1.0, 2.0]))  # same shape, other indices


def test_ask_s_own_array_with_accuracies_of_another_length_or_type():
    algo = Counter(_context(), np.random.default_rng(0))
    asked = algo.ask(2)
    with pytest.raises(AlgorithmContractError, match="tell got 1 accuracies for 2"):
        algo.tell(asked, np.array([1.0]))
    idx, got = algo.tell(asked, [1, 2])  # a list: converted to float64
    assert idx is asked and got.dtype == np.float64 and got.tolist() == [1.0, 2.0]


class Narrow(Counter):
    def ask(self, max_batch):
        return self._proposed(np.arange(self._quota(max_batch), dtype=np.int32))


def test_proposals_are_int64_whatever_the_subclass_builds():
    algo = Narrow(_context(budget=3), np.random.default_rng(0))
    out = algo.ask(3)
    assert out.dtype == np.int64 and out.tolist() == [0, 1, 2]
    assert algo._pending.dtype == np.int64


def test_a_mask_of_zeros_and_ones_works_like_a_bool_mask():
    hood = Neighbourhood(UNEVEN)
    allowed = np.array([1, 1, 0, 1, 1, 1])
    mutator = hood.mutator(allowed)
    for index in range(UNEVEN.size):
        a, b = np.random.default_rng(index), np.random.default_rng(index)
        assert [mutator(a, index) for _ in range(10)] == \
            [hood.mutate(b, index, allowed.astype(bool)) for _ in range(10)]


def test_unpickled_mutators_of_different_masks_keep_their_own_memo():
    import pickle

    hood = Neighbourhood(UNEVEN)
    masks = [np.array([True, True, True, True, False, True]),
             np.array([True, False, True, True, True, True])]
    restored = [pickle.loads(pickle.dumps(hood.mutator(m))) for m in masks]
    for mask, mutator in zip(masks, restored, strict=True):
        a, b = np.random.default_rng(1), np.random.default_rng(1)
        assert [mutator(a, 3) for _ in range(20)] == [hood.mutate(b, 3, mask) for _ in range(20)]
    assert restored[0]._tables is not restored[1]._tables
