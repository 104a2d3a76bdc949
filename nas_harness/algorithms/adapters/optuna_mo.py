"""Optuna's multi-objective samplers: ``optuna:nsga2-mo`` and ``optuna:tpe-mo``.

The same adapter as :mod:`nas_harness.algorithms.adapters.optuna` (one trial per proposal,
in-memory study, FLOPs limit as ``trial.set_constraint``), with two objectives: maximise the
validation accuracy and minimise the FLOPs (free, from the cost table). ``optuna:nsga2`` stays
the single-objective NSGA-II. An infeasible trial is completed with its constraint violation
and, as objectives, the worst validation accuracy told so far (0 before any) and its FLOPs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from nas_harness.algorithms.adapters._base import AdapterParams
from nas_harness.algorithms.adapters.optuna import OptunaAdapter
from nas_harness.algorithms.params import check, param
from nas_harness.algorithms.registry import register

__all__ = ["OptunaMultiObjective", "OptunaNSGA2MO", "OptunaTPEMO"]

_DEFAULT = "Optuna's default"


class OptunaMultiObjective(OptunaAdapter):
    """An Optuna sampler on a two-objective study: (validation accuracy up, FLOPs down)."""

    infeasible_as = ("a completed trial with constraint flops = FLOPs/limit - 1 > 0 and, as "
                     "objectives, the worst accuracy so far and its FLOPs")

    def _open(self, seed: int) -> Any:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():  # experimental notices at construction
            warnings.simplefilter("ignore")
            sampler = self._sampler(optuna, seed)
        self._distributions = {
            f"layer{i}": optuna.distributions.CategoricalDistribution(list(opts))
            for i, opts in enumerate(self.context.space.options)}
        self._names = list(self._distributions)
        self._fail = optuna.trial.TrialState.FAIL
        return optuna.create_study(storage=optuna.storages.InMemoryStorage(), sampler=sampler,
                                   directions=["maximize", "minimize"])

    def _library_tell(self, token: Any, index: int, valid_acc: float) -> None:
        token.set_constraint("flops", self._constraint(index))
        self._lib.tell(token, [valid_acc, float(self.context.flops[index])])

    def _library_reject(self, token: Any, index: int, violation: float) -> None:
        token.set_constraint("flops", violation)
        self._lib.tell(token, [min(self._told, default=0.0), float(self.context.flops[index])])


@register("optuna:nsga2-mo")
class OptunaNSGA2MO(OptunaMultiObjective):
    """Optuna's NSGA-II (NSGAIISampler) on two objectives: validation accuracy and FLOPs."""

    @dataclass(frozen=True)
    class Params(AdapterParams):
        """Parameters of NSGAIISampler passed through."""

        population_size: int = param(50, "individuals per generation", _DEFAULT)
        crossover_prob: float = param(0.9, "probability of crossover for a child", _DEFAULT)
        swapping_prob: float = param(0.5, "per-layer swap probability of uniform crossover",
                                     _DEFAULT)
        mutation_prob: float | None = param(
            None, "per-layer mutation probability (None: 1 / number of layers)", _DEFAULT)

        def __post_init__(self) -> None:
            super().__post_init__()
            check(self.population_size >= 2, "population_size must be at least 2")
            check(0 <= self.crossover_prob <= 1, "crossover_prob must be in [0, 1]")
            check(0 <= self.swapping_prob <= 1, "swapping_prob must be in [0, 1]")
            check(self.mutation_prob is None or 0 <= self.mutation_prob <= 1,
                  "mutation_prob must be in [0, 1] or None")

    def _sampler(self, optuna: Any, seed: int) -> Any:
        p = self.params
        return optuna.samplers.NSGAIISampler(
            population_size=p.population_size, crossover_prob=p.crossover_prob,
            swapping_prob=p.swapping_prob, mutation_prob=p.mutation_prob, seed=seed)


@register("optuna:tpe-mo")
class OptunaTPEMO(OptunaMultiObjective):
    """Optuna's multi-objective TPE (TPESampler on two objectives): accuracy and FLOPs."""

    @dataclass(frozen=True)
    class Params(AdapterParams):
        """Parameters of TPESampler passed through."""

        n_startup_trials: int = param(10, "random trials before TPE starts", _DEFAULT)
        n_ei_candidates: int = param(24, "candidates scored per proposal", _DEFAULT)
        multivariate: bool = param(True, "model the layers jointly (multivariate TPE)",
                                   "chosen a priori, as optuna:tpe")

        def __post_init__(self) -> None:
            super().__post_init__()
            check(self.n_startup_trials >= 0, "n_startup_trials must be >= 0")
            check(self.n_ei_candidates >= 1, "n_ei_candidates must be >= 1")

    def _sampler(self, optuna: Any, seed: int) -> Any:
        p = self.params
        return optuna.samplers.TPESampler(n_startup_trials=p.n_startup_trials,
                                          n_ei_candidates=p.n_ei_candidates,
                                          multivariate=p.multivariate, seed=seed)

