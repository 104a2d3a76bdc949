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

from nas_harness.algorithms.testing._conformance import AlgorithmConformance, real_cifar10
from nas_harness.algorithms.testing._landscape import (
    drive,
    proposal_checker,
    proposes_infeasible,
    synthetic_landscape,
    synthetic_proposals,
)
from nas_harness.algorithms.testing._processes import proposals_in_fresh_processes

__all__ = ["AlgorithmConformance", "drive", "proposal_checker", "proposals_in_fresh_processes",
           "proposes_infeasible", "real_cifar10", "synthetic_landscape", "synthetic_proposals"]
