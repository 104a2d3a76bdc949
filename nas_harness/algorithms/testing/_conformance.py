"""The conformance tests themselves: subclass :class:`AlgorithmConformance` (see the package)."""

from __future__ import annotations

import dataclasses
import functools
import pickle
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.params import params_to_dict, parse_params
from nas_harness.algorithms.testing._landscape import (
    _NP_LEGACY,
    _PY_RANDOM,
    FULL_BUDGET,
    _np_global_state,
    drive,
    proposal_checker,
    proposes_infeasible,
    synthetic_landscape,
    synthetic_proposals,
)
from nas_harness.algorithms.testing._processes import proposals_in_fresh_processes
from nas_harness.benchmarks.protocol import SearchContext


@functools.lru_cache(maxsize=1)
def real_cifar10() -> Any:
    """The real CIFAR-10 table, or the reason it cannot be loaded (cached once per process)."""
    try:
        from nas_harness.benchmarks.data.store import load_table

        return load_table()["cifar10"]
    except Exception as exc:  # any missing piece: the real-table test is skipped
        return f"{type(exc).__name__}: {exc}"


class AlgorithmConformance:
    """Tests every algorithm must pass; subclass and override ``algorithm_class``."""

    budgets: tuple[int, ...] = (1, 7, 50)
    # queries of the cross-process run and of the real-table run; a kit whose proposals are
    # expensive (a library's ask and tell) may lower them
    fresh_process_budget: int = 60
    real_table_budget: int = FULL_BUDGET

    @pytest.fixture
    def algorithm_class(self) -> type[Algorithm]:
        """The algorithm under test: override this fixture."""
        raise NotImplementedError("override the algorithm_class fixture in your test class")

    @pytest.fixture
    def algorithm_params(self, algorithm_class: type[Algorithm]) -> Any:
        """Parameters to test with (default: the declared defaults)."""
        return algorithm_class.Params()

    @pytest.fixture
    def seed_sensitive(self) -> bool:
        """Whether different seeds should give different proposals."""
        return True

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _make(cls: type[Algorithm], params: Any, budget: int, seed: int,
              **landscape: Any) -> tuple[Algorithm, SearchContext, np.ndarray]:
        context, acc = synthetic_landscape(budget, **landscape)
        return cls(context, np.random.default_rng(seed), params), context, acc

    def _run(self, cls: type[Algorithm], params: Any, budget: int, seed: int,
             schedule: Sequence[int] | None = None) -> np.ndarray:
        algo, _, acc = self._make(cls, params, budget, seed)
        asked = drive(algo, acc, budget, schedule)
        return np.concatenate(asked) if asked else np.empty(0, np.int64)

    # -- the tests ------------------------------------------------------------------------------
    def test_params_are_declared(self, algorithm_class: type[Algorithm]) -> None:
        """``Params`` is a frozen dataclass with a default per field; it round-trips."""
        params_cls = algorithm_class.Params
        assert dataclasses.is_dataclass(params_cls), "Params must be a dataclass"
        assert params_cls.__dataclass_params__.frozen, "Params must be frozen"  # type: ignore[attr-defined]
        defaults = params_cls()
        as_dict = params_to_dict(defaults)
        assert parse_params(algorithm_class, as_dict) == defaults
        as_text = [f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
                   for k, v in as_dict.items()]
        assert parse_params(algorithm_class, as_text) == defaults

    def test_same_seed_same_proposals(self, algorithm_class: type[Algorithm],
                                      algorithm_params: Any) -> None:
        """Two runs with the same seed propose exactly the same sequence."""
        first = self._run(algorithm_class, algorithm_params, 60, seed=123, schedule=[5, 1, 3])
        second = self._run(algorithm_class, algorithm_params, 60, seed=123, schedule=[5, 1, 3])
        assert len(first) > 0
        np.testing.assert_array_equal(first, second)

    def test_same_seed_same_proposals_across_processes(
            self, algorithm_class: type[Algorithm], algorithm_params: Any) -> None:
        """Two fresh interpreters with different ``PYTHONHASHSEED`` propose the same sequence.

        Catches an order that depends on ``hash()`` of strings (sets of str, sorting by
        hash), which one process alone never shows.
        """
        args = (algorithm_class, algorithm_params, self.fresh_process_budget, 321, [5, 1, 3])
        here = synthetic_proposals(*args)
        assert len(here) > 0
        first, second = proposals_in_fresh_processes(*args, hash_seeds=("1", "2"))
        assert first == second, "proposals depend on PYTHONHASHSEED (hash() of str?)"
        assert first == here, "a fresh process proposes differently from this one"

    def test_different_seeds_differ(self, algorithm_class: type[Algorithm],
                                    algorithm_params: Any, seed_sensitive: bool) -> None:
        """Different seeds usually give different proposals (unless declared deterministic)."""
        if not seed_sensitive:
            pytest.skip("declared deterministic given the accuracies (seed_sensitive=False)")
        runs = [self._run(algorithm_class, algorithm_params, 40, seed=s) for s in range(3)]
        assert not (np.array_equal(runs[0], runs[1]) and np.array_equal(runs[1], runs[2]))

    @pytest.mark.parametrize("budget", [1, 7, 50])
    def test_never_exceeds_the_budget(self, algorithm_class: type[Algorithm],
                                      algorithm_params: Any, budget: int) -> None:
        """Total proposals stay within the budget; afterwards ``ask`` stays empty."""
        algo, _, acc = self._make(algorithm_class, algorithm_params, budget, seed=0)
        asked = drive(algo, acc, budget)
        total = sum(len(a) for a in asked)
        assert 0 < total <= budget
        for max_batch in (1, budget, 10 * budget):
            assert np.asarray(algo.ask(max_batch)).size == 0, (
                "ask must return nothing once the context's budget is spent")

    def test_respects_max_batch(self, algorithm_class: type[Algorithm],
                                algorithm_params: Any) -> None:
        """Every ``ask`` proposes between 1 and ``max_batch`` architectures."""
        algo, _, acc = self._make(algorithm_class, algorithm_params, 40, seed=1)
        asked = drive(algo, acc, 40, schedule=[1, 3, 2, 7])
        schedule = [1, 3, 2, 7]
        for step, proposals in enumerate(asked):
            assert 1 <= len(proposals) <= schedule[step % 4]

    @pytest.mark.parametrize(("fraction", "budget"), [(0.5, FULL_BUDGET), (0.1, 60)])
    def test_proposals_are_valid_and_feasible(self, algorithm_class: type[Algorithm],
                                              algorithm_params: Any, fraction: float,
                                              budget: int) -> None:
        """Every proposal of a full-budget run is a valid index that satisfies the constraint.

        With ``proposes_infeasible = True`` declared, validity only.
        """
        algo, context, acc = self._make(algorithm_class, algorithm_params, budget, seed=2,
                                        max_flops_fraction=fraction)
        seen = [0]
        assert drive(algo, acc, budget, check=proposal_checker(context, algorithm_class, seen))
        assert seen[0] <= budget

    def test_no_global_rng(self, algorithm_class: type[Algorithm], algorithm_params: Any,
                           monkeypatch: pytest.MonkeyPatch) -> None:
        """Neither ``numpy.random``'s global functions nor ``random`` are used or advanced."""
        np_state = _np_global_state()
        py_state = random.getstate()

        def forbidden(*_args: Any, **_kwargs: Any) -> None:
            raise AssertionError("global RNG used; draw from the injected Generator (self.rng)")

        for name in _NP_LEGACY:
            if hasattr(np.random, name):
                monkeypatch.setattr(np.random, name, forbidden)
        for name in _PY_RANDOM:
            if hasattr(random, name):
                monkeypatch.setattr(random, name, forbidden)
        algo, _, acc = self._make(algorithm_class, algorithm_params, 30, seed=3)
        drive(algo, acc, 30, schedule=[4, 1])
        monkeypatch.undo()
        after = _np_global_state()
        assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1])
        assert np_state[2:] == after[2:]
        assert random.getstate() == py_state

    def test_survives_pickling_mid_run(self, algorithm_class: type[Algorithm],
                                       algorithm_params: Any) -> None:
        """Pickling after some ask/tell and continuing changes no proposal."""
        budget, schedule = 50, [3, 1, 4]
        reference = self._run(algorithm_class, algorithm_params, budget, 7, schedule)
        algo, _, acc = self._make(algorithm_class, algorithm_params, budget, seed=7)
        algo = pickle.loads(pickle.dumps(algo))          # before any ask
        head = drive(algo, acc, budget, schedule, steps=4)
        used = sum(len(a) for a in head)
        restored = pickle.loads(pickle.dumps(algo))
        # continue the schedule where it stopped (step 4)
        rest = drive(restored, acc, budget - used, [schedule[(4 + i) % 3] for i in range(3)])
        got = np.concatenate(head + rest)
        np.testing.assert_array_equal(got, reference)

    def test_tell_accepts_batches(self, algorithm_class: type[Algorithm],
                                  algorithm_params: Any) -> None:
        """With a large ``max_batch`` a batch can be proposed and told at once."""
        algo, context, acc = self._make(algorithm_class, algorithm_params, 30, seed=4)
        proposals = np.asarray(algo.ask(30))
        assert 1 <= proposals.size <= 30
        check = proposal_checker(context, algorithm_class)
        check(proposals)
        algo.tell(proposals, acc[proposals])
        left = 30 - proposals.size
        following = np.asarray(algo.ask(left if left else 1))
        if left == 0:
            assert following.size == 0, "proposed past the budget after a full batch"
        else:
            # still usable: it goes on proposing (valid, within what is left) after a batch
            assert 1 <= following.size <= left, (
                f"after a batch of {proposals.size}, ask({left}) gave {following.size}")
            check(following)

    def test_stays_done(self, algorithm_class: type[Algorithm], algorithm_params: Any) -> None:
        """After ``ask`` returned nothing it keeps returning nothing."""
        algo, _, acc = self._make(algorithm_class, algorithm_params, 25, seed=5)
        drive(algo, acc, 25)
        for _ in range(3):
            assert np.asarray(algo.ask(5)).size == 0

    def test_does_not_modify_the_context(self, algorithm_class: type[Algorithm],
                                         algorithm_params: Any) -> None:
        """The free cost arrays are shared between runs: they must not change."""
        algo, context, acc = self._make(algorithm_class, algorithm_params, 30, seed=6)
        before = context.flops.copy()
        drive(algo, acc, 30)
        np.testing.assert_array_equal(context.flops, before)

    def test_runs_on_the_real_table(self, algorithm_class: type[Algorithm],
                                    algorithm_params: Any) -> None:
        """A ``real_table_budget`` run on CIFAR-10 through the oracle (skipped without data).

        Every charged query is checked: a valid index, and feasible unless the class declares
        ``proposes_infeasible``.
        """
        table = real_cifar10()
        if isinstance(table, str):
            pytest.skip(f"real benchmark table not loadable ({table})")
        from nas_harness.algorithms.search_loop import run_search
        from nas_harness.benchmarks.oracle import Oracle
        from nas_harness.benchmarks.protocol import Protocol

        oracle = Oracle(table, Protocol("cifar10", budget=self.real_table_budget))
        algo = algorithm_class(oracle.context, np.random.default_rng(0), algorithm_params)
        log = run_search(algo, oracle)
        assert 0 < len(log.index) <= self.real_table_budget
        proposal_checker(oracle.context, algorithm_class)(log.index)
        if not proposes_infeasible(algorithm_class):
            assert log.feasible.all()
