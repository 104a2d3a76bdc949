"""Checks every library adapter must pass, on top of the conformance kit.

Charging (every feasible library proposal is one query, repeats included; infeasible ones are
never charged), determinism across executors (the same bytes in-process and in a process
pool) and the run record's library version. A test module subclasses :class:`AdapterChecks`
once per adapter and calls :func:`check_sweep_bytes` once for its library.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sweep_fixtures import synthetic_table, tree

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.testing import (
    AlgorithmConformance,
    drive,
    synthetic_landscape,
)
from nas_harness.benchmarks.space import SearchSpace
from nas_harness.sweep import SweepSpec, run_sweep

TINY = SearchSpace(options=((8, 16),) * 5)  # 32 architectures: a budget of 40 must repeat


def spy_run(cls: type[Algorithm], params: Any, budget: int, seed: int,
            **landscape: Any) -> tuple[Any, np.ndarray, np.ndarray, Any]:
    """Run ``cls`` and record every architecture the library proposed (feasible or not)."""
    context, acc = synthetic_landscape(budget, **landscape)
    algo = cls(context, np.random.default_rng(seed), params)
    library_ask = algo._library_ask  # type: ignore[attr-defined]
    proposed: list[int] = []

    def spy() -> tuple[Any, tuple[int, ...]]:
        token, channels = library_ask()
        proposed.append(algo._index(channels))  # type: ignore[attr-defined]
        return token, channels

    algo._library_ask = spy  # type: ignore[attr-defined]
    asked = drive(algo, acc, budget, schedule=[3, 1])
    return algo, np.asarray(proposed, dtype=np.int64), np.concatenate(asked), context


# The kit's long runs cost most of an adapter's test time: 500 queries twice, and 60 feasible
# queries at a 10% FLOPs limit, where the library proposes mostly infeasible architectures
# (each one a library ask and tell). What they check -- every charged proposal is a valid
# index, feasible unless declared otherwise, and the adapter runs through the harness's oracle
# on the real table -- is a property of each proposal and of the adapter's mapping, which the
# first queries already exercise (at 10%, hundreds of infeasible proposals skipped within 20
# charged queries); the adapter checks below cover charging, repeats and determinism.
ADAPTER_BUDGET = 120


class AdapterChecks(AlgorithmConformance):
    """The conformance kit plus the adapter rules (override ``algorithm_class``)."""

    charging_budget = 40
    fresh_process_budget = 20  # two fresh interpreters each import the library
    real_table_budget = ADAPTER_BUDGET

    @pytest.mark.parametrize(("fraction", "budget"), [(0.5, ADAPTER_BUDGET), (0.1, 20)])
    def test_proposals_are_valid_and_feasible(self, algorithm_class: type[Algorithm],
                                              algorithm_params: Any, fraction: float,
                                              budget: int) -> None:
        """The kit's check at :data:`ADAPTER_BUDGET` queries instead of the full 500."""
        super().test_proposals_are_valid_and_feasible(algorithm_class, algorithm_params,
                                                      fraction, budget)

    def test_every_feasible_proposal_is_one_query_and_no_infeasible_one_is(
            self, algorithm_class: type[Algorithm], algorithm_params: Any) -> None:
        """The charged queries are exactly the library's feasible proposals, in order."""
        budget = self.charging_budget
        algo, proposed, asked, context = spy_run(algorithm_class, algorithm_params, budget,
                                                 seed=11, max_flops_fraction=0.3)
        feasible = context.is_feasible(proposed)
        assert len(asked) == budget
        np.testing.assert_array_equal(proposed[feasible], asked)
        assert algo.num_infeasible == int((~feasible).sum()) > 0  # some were, none charged

    def test_repeats_are_charged(self, algorithm_class: type[Algorithm],
                                 algorithm_params: Any) -> None:
        """In a space smaller than the budget the library repeats, and each repeat costs one."""
        budget = self.charging_budget
        _algo, proposed, asked, context = spy_run(algorithm_class, algorithm_params, budget,
                                                 seed=12, space=TINY, max_flops_fraction=0.6)
        assert len(asked) == budget and len(np.unique(asked)) < budget
        np.testing.assert_array_equal(proposed[context.is_feasible(proposed)], asked)

    def test_records_its_library_version(self, algorithm_class: type[Algorithm]) -> None:
        """``provenance()`` names the library and its installed version."""
        from importlib import metadata

        versions = algorithm_class.provenance()
        library = algorithm_class.library  # type: ignore[attr-defined]
        assert versions[library] == metadata.version(library)
        assert algorithm_class.unavailable() is None


def check_sweep_bytes(tmp_path: Path, names: Sequence[str], library: str,
                      budget: int = 30) -> None:
    """A sweep of ``names`` gives the same files with 1 and 2 workers; sidecars name the library.

    One run per name: the pool still runs several at once (two workers, several names).
    """
    from importlib import metadata

    table = synthetic_table()
    spec = SweepSpec(algorithms=tuple(names), datasets=("cifar10",), runs=1, budget=budget)
    one = run_sweep(spec, tmp_path / "one", workers=1, table=table, progress=False)
    two = run_sweep(spec, tmp_path / "two", workers=2, table=table, progress=False)
    assert one.ok and two.ok, (one.describe(), two.describe())
    assert one.completed == two.completed == len(names)
    files = tree(tmp_path / "one")
    assert files == tree(tmp_path / "two")
    sidecars = [json.loads(data) for path, data in files.items() if path.endswith(".json")]
    version = metadata.version(library)
    assert {s["library"][library] for s in sidecars} == {version}
    # ... and the report's table of algorithms shows it
    from nas_harness.analysis.report import params_frame
    from nas_harness.analysis.runs import load_results

    frame = params_frame(load_results(tmp_path / "one"))
    assert frame["registry name"].str.endswith(f"({library} {version})").all()
