"""A conformance kit every algorithm can reuse (in the spirit of ``optuna.testing``).

Subclass :class:`AlgorithmConformance` in a test module and override one fixture::

    import pytest
    from nas_harness.algorithms.testing import AlgorithmConformance

    class TestMyAlgorithm(AlgorithmConformance):
        @pytest.fixture
        def algorithm_class(self):
            return MyAlgorithm

pytest then runs every ``test_*`` method below against it: declared parameters, same seed
gives the same proposals -- in this process and in two fresh ones with different
``PYTHONHASHSEED`` --, the budget and ``max_batch`` are respected, every proposal of a
full-budget run is valid and feasible, no global RNG is touched, pickling mid-run changes
nothing, and once finished ``ask`` stays empty. The tests run on a deterministic synthetic
landscape (the real size space with made-up FLOPs and accuracies), so they need no data; one
more test runs the full budget on the real benchmark table when
``nas_harness.benchmarks.data.store.load_table()`` can load it.

Optional fixtures: ``algorithm_params`` (a ``Params`` instance, default: the defaults) and
``seed_sensitive`` (``False`` for an algorithm that is deterministic given the accuracies it
is told, such as LayerNAS with its defaults). An algorithm that proposes architectures over
the constraint on purpose (LayerNAS evaluates children as built) sets the class attribute
``proposes_infeasible = True``: the kit then checks that its proposals are valid indices only.

The algorithm class (and its module) must be importable by name -- or loaded from a plugin
file -- in a child process for the cross-process determinism test: define plugins in a
module, not inside a function.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import json
import os
import pickle
import random
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
import pytest

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.params import params_to_dict, parse_params
from nas_harness.benchmarks.protocol import SearchContext
from nas_harness.benchmarks.space import SSS, SearchSpace

__all__ = ["AlgorithmConformance", "drive", "proposals_in_fresh_processes",
           "synthetic_landscape"]

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


_CHILD = "from nas_harness.algorithms.testing import _child_main; _child_main()\n"


def _child_main() -> None:
    """Entry point of a fresh process: import the class by name (or from its file), run, print.

    A plugin loaded from a file (``load_plugin``) lives under a module name that only its
    process knows, so the class travels as (module name, file, qualified name) and its module
    is re-created from the file when the name does not import; the parameters, which may be
    of a class nested in it, are unpickled only after that.
    """
    module_name, module_file, qualname, blob = pickle.load(sys.stdin.buffer)
    if module_name not in sys.modules:
        try:
            importlib.import_module(module_name)
        except ImportError:
            spec = importlib.util.spec_from_file_location(module_name, module_file)
            assert spec is not None and spec.loader is not None, module_file
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
    cls = cast("type[Algorithm]",
               functools.reduce(getattr, qualname.split("."), sys.modules[module_name]))
    params, budget, seed, schedule = pickle.loads(blob)
    print(json.dumps(synthetic_proposals(cls, params, budget, seed, schedule)))


def proposals_in_fresh_processes(cls: type[Algorithm], params: Any, budget: int, seed: int,
                                 schedule: Sequence[int] | None,
                                 hash_seeds: Sequence[str] = ("1", "2")) -> list[list[int]]:
    """:func:`synthetic_proposals` in new interpreters, one per ``PYTHONHASHSEED`` value.

    The children run side by side, see this process's ``sys.path`` (so a plugin imported from
    a test directory imports there too), get the class by name (see :func:`_child_main`) and
    the parameters by pickle.
    """
    blob = pickle.dumps((params, budget, seed, None if schedule is None else list(schedule)))
    module_file = getattr(sys.modules[cls.__module__], "__file__", None)
    payload = pickle.dumps((cls.__module__, module_file, cls.__qualname__, blob))
    children = []
    for hash_seed in hash_seeds:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed,
               "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        children.append(subprocess.Popen([sys.executable, "-c", _CHILD], env=env,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE))
    outputs = [child.communicate(payload, timeout=600) for child in children]
    results = []
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, (
            f"the run in a fresh process failed:\n{err.decode(errors='replace')[-2000:]}")
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return results


@functools.lru_cache(maxsize=1)
def _real_cifar10() -> Any:
    """The real CIFAR-10 table, or the reason it cannot be loaded (cached once per process)."""
    try:
        from nas_harness.benchmarks.data.store import load_table

        return load_table()["cifar10"]
    except Exception as exc:  # any missing piece: the real-table test is skipped
        return f"{type(exc).__name__}: {exc}"


class AlgorithmConformance:
    """Tests every algorithm must pass; subclass and override ``algorithm_class``."""

    budgets: tuple[int, ...] = (1, 7, 50)

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
        args = (algorithm_class, algorithm_params, 60, 321, [5, 1, 3])
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
        """A full-budget run on CIFAR-10 through the harness's oracle (skipped without data).

        Every charged query is checked: a valid index, and feasible unless the class declares
        ``proposes_infeasible``.
        """
        table = _real_cifar10()
        if isinstance(table, str):
            pytest.skip(f"real benchmark table not loadable ({table})")
        from nas_harness.algorithms.search_loop import run_search
        from nas_harness.benchmarks.oracle import Oracle
        from nas_harness.benchmarks.protocol import Protocol

        oracle = Oracle(table, Protocol("cifar10", budget=FULL_BUDGET))
        algo = algorithm_class(oracle.context, np.random.default_rng(0), algorithm_params)
        log = run_search(algo, oracle)
        assert 0 < len(log.index) <= FULL_BUDGET
        proposal_checker(oracle.context, algorithm_class)(log.index)
        if not proposes_infeasible(algorithm_class):
            assert log.feasible.all()
