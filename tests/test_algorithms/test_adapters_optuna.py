"""The Optuna adapters: conformance, charging, determinism across executors (needs optuna)."""

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

from adapter_cases import AdapterChecks, check_sweep_bytes, spy_run  # noqa: E402

from nas_harness.algorithms.adapters.optuna import (  # noqa: E402
    OptunaGP,
    OptunaNSGA2,
    OptunaQMC,
    OptunaRandom,
    OptunaTPE,
)
from nas_harness.algorithms.testing import drive, synthetic_landscape  # noqa: E402

FAST = ("optuna:tpe", "optuna:random", "optuna:qmc", "optuna:nsga2")


@pytest.fixture(params=[OptunaTPE, OptunaRandom, OptunaQMC, OptunaNSGA2],
                ids=lambda c: c.name)
def adapter(request):
    return request.param


class TestOptunaAdapters(AdapterChecks):
    @pytest.fixture
    def algorithm_class(self, adapter):
        return adapter


@pytest.mark.parametrize("cls", [OptunaTPE, OptunaNSGA2])
def test_infeasible_trials_carry_the_violation(cls):
    """Constraint-aware samplers: every trial has ``flops`` = FLOPs/limit - 1, > 0 if infeasible."""
    algo, proposed, _asked, context = spy_run(cls, None, 30, seed=3, max_flops_fraction=0.3)
    trials = algo._lib.trials
    assert len(trials) == len(proposed) == 30 + algo.num_infeasible
    violation = np.array([t.constraints["flops"] for t in trials])
    np.testing.assert_allclose(violation, context.flops[proposed] / context.max_flops - 1)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert (violation > 0).sum() == algo.num_infeasible > 0


@pytest.mark.parametrize("cls", [OptunaRandom, OptunaQMC])
def test_infeasible_trials_fail_without_a_constraint_interface(cls):
    algo, proposed, _asked, context = spy_run(cls, None, 30, seed=3, max_flops_fraction=0.3)
    states = [t.state for t in algo._lib.trials]
    failed = np.array([s == optuna.trial.TrialState.FAIL for s in states])
    np.testing.assert_array_equal(failed, ~context.is_feasible(proposed))
    assert failed.sum() == algo.num_infeasible > 0


def test_tpe_is_multivariate_by_default():
    context, _ = synthetic_landscape(5)
    algo = OptunaTPE(context, np.random.default_rng(0))
    assert algo._lib.sampler._multivariate is True


def test_same_bytes_in_process_and_in_a_pool(tmp_path):
    check_sweep_bytes(tmp_path, FAST, "optuna")


def test_gp_runs_deterministically_and_feasibly():
    """GPSampler is slow (a GP fit per trial): a tiny run, twice, beyond its startup trials."""
    pytest.importorskip("torch")
    params = OptunaGP.Params(n_startup_trials=3)
    runs = []
    for _ in range(2):
        context, acc = synthetic_landscape(8, max_flops_fraction=0.3)
        algo = OptunaGP(context, np.random.default_rng(5), params)
        asked = np.concatenate(drive(algo, acc, 8))
        assert len(asked) == 8 and context.is_feasible(asked).all()
        runs.append(asked)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert OptunaGP.provenance()["torch"]
