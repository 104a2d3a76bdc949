"""optuna:nsga2-mo and optuna:tpe-mo: the adapter kit, and two objectives told (needs optuna)."""

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

from nas_harness.algorithms.adapters.optuna_mo import OptunaNSGA2MO, OptunaTPEMO  # noqa: E402
from nas_harness.algorithms.registry import available_algorithms  # noqa: E402
from tests.test_algorithms.adapter_cases import AdapterChecks, spy_run  # noqa: E402


@pytest.fixture(params=[OptunaNSGA2MO, OptunaTPEMO], ids=lambda c: c.name)
def adapter(request):
    return request.param


class TestOptunaMultiObjective(AdapterChecks):
    @pytest.fixture
    def algorithm_class(self, adapter):
        return adapter


@pytest.mark.parametrize("cls", [OptunaNSGA2MO, OptunaTPEMO])
def test_two_objectives_and_the_constraint_are_told(cls):
    algo, proposed, _asked, context = spy_run(cls, None, 30, seed=3, max_flops_fraction=0.3)
    trials = algo._lib.trials
    assert algo._lib.directions == [optuna.study.StudyDirection.MAXIMIZE,
                                    optuna.study.StudyDirection.MINIMIZE]
    np.testing.assert_allclose([t.values[1] for t in trials], context.flops[proposed])
    violation = np.array([t.constraints["flops"] for t in trials])
    assert (violation > 0).sum() == algo.num_infeasible > 0


def test_registered_beside_the_single_objective_nsga2():
    names = available_algorithms()
    assert names["optuna:nsga2-mo"] is OptunaNSGA2MO and "optuna:nsga2" in names
    assert names["optuna:tpe-mo"] is OptunaTPEMO
