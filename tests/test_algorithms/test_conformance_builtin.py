"""Every built-in algorithm passes the shipped conformance kit."""

import numpy as np
import pytest

from nas_harness.algorithms.layernas import LayerNAS
from nas_harness.algorithms.ppo import PPO
from nas_harness.algorithms.random_search import RandomSearch
from nas_harness.algorithms.regularized_evolution import RegularizedEvolution
from nas_harness.algorithms.reinforce import Reinforce
from nas_harness.algorithms.testing import AlgorithmConformance


class TestRandomSearch(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return RandomSearch


class TestRandomSearchWithReplacement(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return RandomSearch

    @pytest.fixture
    def algorithm_params(self):
        return RandomSearch.Params(replace=True)


class TestRegularizedEvolution(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return RegularizedEvolution


class TestLayerNAS(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return LayerNAS

    @pytest.fixture
    def seed_sensitive(self):
        return False  # deterministic given the accuracies with its default parameters


class TestLayerNASRandomised(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return LayerNAS

    @pytest.fixture
    def algorithm_params(self):
        return LayerNAS.Params(unsearched="random", layer_order="random", num_buckets=2,
                               top_k=1)


class TestPPO(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return PPO


class TestReinforce(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return Reinforce


class TestReinforceNoDuplicates(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return Reinforce

    @pytest.fixture
    def algorithm_params(self):
        return Reinforce.Params(avoid_duplicates=True, batch_size=4)


class TestRegularizedEvolutionResample(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return RegularizedEvolution

    @pytest.fixture
    def algorithm_params(self):
        return RegularizedEvolution.Params(population_size=5, tournament_size=2,
                                           mutation="resample")


class TestLayerNASStandIn(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return LayerNAS

    @pytest.fixture
    def algorithm_params(self):
        return LayerNAS.Params(infeasible="stand-in", passes=0)

    @pytest.fixture
    def seed_sensitive(self):
        return False


def test_layernas_stand_in_never_proposes_infeasible():
    # the kit allows LayerNAS's as-built infeasible children; the stand-in variant has none
    from nas_harness.algorithms.testing import drive, synthetic_landscape

    context, acc = synthetic_landscape(300, max_flops_fraction=0.3)
    algo = LayerNAS(context, np.random.default_rng(0),
                    LayerNAS.Params(infeasible="stand-in", passes=0))
    asked = drive(algo, acc, 300)
    assert all(context.is_feasible(a).all() for a in asked)
    paper = LayerNAS(context, np.random.default_rng(0))
    asked = drive(paper, acc, 300)
    assert not all(context.is_feasible(a).all() for a in asked)
