"""The example plugin passes the harness's conformance kit (run: pytest examples/)."""

import pytest
from my_algorithm import HillClimbing

from nas_harness.algorithms.testing import AlgorithmConformance


class TestHillClimbing(AlgorithmConformance):
    """Every conformance test, run on HillClimbing."""

    @pytest.fixture
    def algorithm_class(self):
        """The algorithm under test."""
        return HillClimbing
