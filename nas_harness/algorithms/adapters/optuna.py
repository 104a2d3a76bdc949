"""Optuna's samplers as search algorithms: ``optuna:tpe``, ``gp``, ``random``, ``qmc``, ``nsga2``.

The space is five categorical parameters ``layer0..layer4`` whose choices are the channel
counts; each proposal is one ``study.ask`` and each result one ``study.tell`` (maximising the
validation accuracy) on an in-memory study, so Optuna's own code makes every decision.

Infeasible proposals (never charged, then the adapter asks again):

* ``tpe``, ``gp``, ``nsga2`` read constraints: every trial carries the constraint
  ``flops = FLOPs / limit - 1`` (``trial.set_constraint``, Optuna's constraint interface; > 0 is
  infeasible). An infeasible trial is completed with that violation and, as its objective, the
  worst validation accuracy told so far (0 before any): TPE and NSGA-II rank infeasible trials
  by violation alone, GP fits that placeholder (it models every completed trial).
* ``random`` and ``qmc`` have no constraint interface: an infeasible trial is told as failed
  (``TrialState.FAIL``), which they ignore, as rejection sampling.

Seeding: the sampler's ``seed`` is drawn from the run's Generator. Optuna's logging is set to
WARNING (it would print every trial).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from nas_harness.algorithms.adapters._base import AdapterParams, LibraryAdapter
from nas_harness.algorithms.params import check, param
from nas_harness.algorithms.registry import register

__all__ = ["OptunaAdapter", "OptunaGP", "OptunaNSGA2", "OptunaQMC", "OptunaRandom", "OptunaTPE"]

_DEFAULT = "Optuna's default"


class OptunaAdapter(LibraryAdapter):
    """An Optuna sampler on an in-memory study, one trial per proposal.

    A subclass implements ``_sampler(optuna, seed)`` and sets ``constrained = False`` when the
    sampler has no constraint interface (infeasible trials are then failed trials).
    """

    library = "optuna"
    extra = "optuna"
    constrained: ClassVar[bool] = True
    infeasible_as = ("a completed trial with constraint flops = FLOPs/limit - 1 > 0 "
                     "(trial.set_constraint) and the worst accuracy so far as its value")
    directions: ClassVar[tuple[str, ...]] = ("maximize",)  # the study's objectives

    def _sampler(self, optuna: Any, seed: int) -> Any:
        raise NotImplementedError

    def _open(self, seed: int) -> Any:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():  # experimental/deprecation notices at construction
            warnings.simplefilter("ignore")
            sampler = self._sampler(optuna, seed)
        self._distributions = {
            f"layer{i}": optuna.distributions.CategoricalDistribution(list(opts))
            for i, opts in enumerate(self.context.space.options)}
        self._names = list(self._distributions)
        self._fail = optuna.trial.TrialState.FAIL
        return optuna.create_study(storage=optuna.storages.InMemoryStorage(), sampler=sampler,
                                   directions=list(self.directions))  # type: ignore[arg-type]

    def _library_ask(self) -> tuple[Any, tuple[int, ...]]:
        trial = self._lib.ask(self._distributions)
        params = trial.params
        return trial, tuple(params[name] for name in self._names)

    def _constraint(self, index: int) -> float:
        return float(self.context.flops[index] / self.context.max_flops - 1.0)

    def _library_tell(self, token: Any, index: int, valid_acc: float) -> None:
        if self.constrained:
            token.set_constraint("flops", self._constraint(index))
        self._lib.tell(token, valid_acc)

    def _library_reject(self, token: Any, index: int, violation: float) -> None:
        if not self.constrained:
            self._lib.tell(token, state=self._fail)
            return
        token.set_constraint("flops", violation)
        self._lib.tell(token, min(self._told, default=0.0))


@register("optuna:tpe")
class OptunaTPE(OptunaAdapter):
    """Optuna's multivariate TPE (TPESampler), the FLOPs limit as a constraint."""

    @dataclass(frozen=True)
    class Params(AdapterParams):
        """Parameters of TPESampler passed through."""

        n_startup_trials: int = param(10, "random trials before TPE starts", _DEFAULT)
        n_ei_candidates: int = param(24, "candidates scored by expected improvement", _DEFAULT)
        multivariate: bool = param(True, "model the layers jointly (multivariate TPE)",
                                   "chosen a priori: the layers interact, which multivariate "
                                   "TPE models (Optuna's default is False)")

        def __post_init__(self) -> None:
            super().__post_init__()
            check(self.n_startup_trials >= 0, "n_startup_trials must be >= 0")
            check(self.n_ei_candidates >= 1, "n_ei_candidates must be >= 1")

    def _sampler(self, optuna: Any, seed: int) -> Any:
        p = self.params
        return optuna.samplers.TPESampler(n_startup_trials=p.n_startup_trials,
                                          n_ei_candidates=p.n_ei_candidates,
                                          multivariate=p.multivariate, seed=seed)


@register("optuna:gp")
class OptunaGP(OptunaAdapter):
    """Optuna's Gaussian-process sampler (GPSampler, needs PyTorch), constraint-aware."""

    requires = ("torch",)
    extra = "optuna-gp"

    @dataclass(frozen=True)
    class Params(AdapterParams):
        """Parameters of GPSampler passed through."""

        n_startup_trials: int = param(10, "random trials before the GP starts", _DEFAULT)
        deterministic_objective: bool = param(
            False, "fix the GP's noise at its minimum (the hp=90 table is deterministic)",
            _DEFAULT)

        def __post_init__(self) -> None:
            super().__post_init__()
            check(self.n_startup_trials >= 0, "n_startup_trials must be >= 0")

    def _sampler(self, optuna: Any, seed: int) -> Any:
        p = self.params
        return optuna.samplers.GPSampler(n_startup_trials=p.n_startup_trials,
                                         deterministic_objective=p.deterministic_objective,
                                         seed=seed)


@register("optuna:random")
class OptunaRandom(OptunaAdapter):
    """Optuna's RandomSampler; infeasible draws are failed trials (rejection sampling)."""

    constrained = False
    infeasible_as = "a failed trial (TrialState.FAIL), which RandomSampler ignores"

    def _sampler(self, optuna: Any, seed: int) -> Any:
        return optuna.samplers.RandomSampler(seed=seed)


@register("optuna:qmc")
class OptunaQMC(OptunaAdapter):
    """Optuna's quasi-Monte Carlo sampler (QMCSampler); infeasible points are failed trials."""

    constrained = False
    infeasible_as = "a failed trial (TrialState.FAIL); the next point of the sequence follows"

    @dataclass(frozen=True)
    class Params(AdapterParams):
        """Parameters of QMCSampler passed through."""

        qmc_type: Literal["sobol", "halton"] = param("sobol", "low-discrepancy sequence",
                                                     _DEFAULT)
        scramble: bool = param(True, "randomise the sequence with the seed",
                               "harness choice: Optuna's default is False, which would make "
                               "every run of a sweep identical")

    def _sampler(self, optuna: Any, seed: int) -> Any:
        p = self.params
        return optuna.samplers.QMCSampler(qmc_type=p.qmc_type, scramble=p.scramble, seed=seed,
                                          warn_independent_sampling=False)


@register("optuna:nsga2")
class OptunaNSGA2(OptunaAdapter):
    """Optuna's NSGA-II (NSGAIISampler) on the single objective, constraint-aware."""

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
