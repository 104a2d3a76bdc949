"""The PyGlove adapters: conformance, charging, determinism (needs pyglove)."""

import pytest

pg = pytest.importorskip("pyglove")

from adapter_cases import AdapterChecks, check_sweep_bytes, spy_run  # noqa: E402

from nas_harness.algorithms.adapters.pyglove import PyGloveEvolution, PyGloveRandom  # noqa: E402


@pytest.fixture(params=[PyGloveEvolution, PyGloveRandom], ids=lambda c: c.name)
def adapter(request):
    return request.param


class TestPyGloveAdapters(AdapterChecks):
    @pytest.fixture
    def algorithm_class(self, adapter):
        return adapter


def test_evolution_is_the_examples_setting():
    assert PyGloveEvolution.Params().population_size == 50
    assert PyGloveEvolution.Params().tournament_size == 10


@pytest.mark.parametrize("cls", [PyGloveEvolution, PyGloveRandom])
def test_infeasible_dna_is_skipped_not_fed_back(cls):
    algo, _proposed, _asked, _context = spy_run(cls, None, 30, seed=6, max_flops_fraction=0.3)
    assert algo._lib.num_feedbacks == 30
    assert algo._lib.num_proposals == 30 + algo.num_infeasible and algo.num_infeasible > 0


def test_same_bytes_in_process_and_in_a_pool(tmp_path):
    check_sweep_bytes(tmp_path, ("pyglove:evolution", "pyglove:random"), "pyglove")
