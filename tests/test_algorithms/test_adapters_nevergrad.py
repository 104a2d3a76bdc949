"""The Nevergrad adapters: conformance, charging, determinism, names (needs nevergrad)."""

import numpy as np
import pytest

ng = pytest.importorskip("nevergrad")  # imported up front: its import pulls modules that
# draw from the global `random` once at import time, which is not the adapter's doing

from adapter_cases import AdapterChecks, check_sweep_bytes, spy_run  # noqa: E402

from nas_harness.algorithms.adapters.nevergrad import LISTED  # noqa: E402
from nas_harness.algorithms.registry import get_algorithm  # noqa: E402
from nas_harness.benchmarks.errors import UnknownNameError  # noqa: E402

NAMES = tuple(f"nevergrad:{n}" for n in LISTED)


@pytest.fixture(params=NAMES)
def adapter(request):
    return get_algorithm(request.param)


class TestNevergradAdapters(AdapterChecks):
    @pytest.fixture
    def algorithm_class(self, adapter):
        return adapter


def test_any_optimizer_of_the_registry_by_name():
    cls = get_algorithm("nevergrad:TwoPointsDE")
    assert cls.optimizer_name == "TwoPointsDE" and cls.name == "nevergrad:TwoPointsDE"
    assert get_algorithm("nevergrad:TwoPointsDE") is cls
    _algo, _proposed, asked, context = spy_run(cls, None, 20, seed=1, max_flops_fraction=0.3)
    assert len(asked) == 20 and context.is_feasible(asked).all()


def test_an_unknown_optimizer_name_suggests_close_ones():
    with pytest.raises(UnknownNameError, match="nevergrad:DiscreteOnePlusOne"):
        get_algorithm("nevergrad:DiscreteOnePlusOn")


def test_infeasible_candidates_are_told_with_a_violation():
    """Nevergrad is told every candidate; infeasible ones stay out of its archive."""
    cls = get_algorithm("nevergrad:DiscreteOnePlusOne")
    algo, proposed, _asked, context = spy_run(cls, None, 30, seed=2, max_flops_fraction=0.3)
    assert algo._lib.num_tell == 30 + algo.num_infeasible and algo.num_infeasible > 0
    archived = {tuple(v.parameter.value) for v in algo._lib.archive.values()}
    infeasible = proposed[~context.is_feasible(proposed)]
    channels = {tuple(c) for c in context.space.channels(infeasible).tolist()}
    assert not archived & channels


def test_choice_is_nevergrads_stochastic_default_unless_asked_to_be_deterministic():
    cls = get_algorithm("nevergrad:DiscreteOnePlusOne")
    assert cls.Params().deterministic_choice is False
    drawn = {}
    for flag in (False, True):
        algo, _proposed, _asked, _context = spy_run(cls, cls.Params(deterministic_choice=flag),
                                                    10, seed=3)
        space = algo._lib.parametrization  # children share the parent's weights
        drawn[flag] = {space.spawn_child().value for _ in range(30)}
    assert len(drawn[False]) > 1  # an option drawn from the softmax of the weights
    assert len(drawn[True]) == 1  # the most likely option, every time


def test_global_numpy_state_is_neither_used_nor_advanced():
    state = np.random.get_state()  # noqa: NPY002 - checking it is untouched
    spy_run(get_algorithm("nevergrad:NGOpt"), None, 20, seed=4)
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_same_bytes_in_process_and_in_a_pool(tmp_path):
    check_sweep_bytes(tmp_path, NAMES, "nevergrad")


def test_a_run_that_imports_nevergrad_first_is_not_failed_by_the_global_random_watch(tmp_path):
    """Nevergrad's import draws from `random` once (via rich); that happens before the run."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    tests_dir = Path(__file__).resolve().parents[1]
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tests_dir)!r})
        assert "nevergrad" not in sys.modules
        from sweep_fixtures import synthetic_table
        from nas_harness.sweep import SweepSpec, run_sweep
        spec = SweepSpec(algorithms=("nevergrad:DiscreteOnePlusOne",), datasets=("cifar10",),
                         runs=1, budget=10)
        result = run_sweep(spec, {str(tmp_path / "out")!r}, workers=1, table=synthetic_table(),
                           progress=False)
        assert result.ok, result.describe()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
