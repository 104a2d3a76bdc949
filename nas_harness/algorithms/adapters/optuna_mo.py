"""Optuna's multi-objective samplers: ``optuna:nsga2-mo`` and ``optuna:tpe-mo``.

The same adapter as :mod:`nas_harness.algorithms.adapters.optuna` (one trial per proposal,
in-memory study, FLOPs limit as ``trial.set_constraint``), with two objectives: maximise the
validation accuracy and minimise the FLOPs (free, from the cost table). ``optuna:nsga2`` stays
the single-objective NSGA-II. An infeasible trial is completed with its constraint violation
and, as objectives, the worst validation accuracy told so far (0 before any) and its FLOPs.
"""

from __future__ import annotations

from typing import Any

from nas_harness.algorithms.adapters.optuna import OptunaAdapter, OptunaNSGA2, OptunaTPE
from nas_harness.algorithms.registry import register

__all__ = ["OptunaMultiObjective", "OptunaNSGA2MO", "OptunaTPEMO"]


class OptunaMultiObjective(OptunaAdapter):
    """An Optuna sampler on a two-objective study: (validation accuracy up, FLOPs down)."""

    infeasible_as = ("a completed trial with constraint flops = FLOPs/limit - 1 > 0 and, as "
                     "objectives, the worst accuracy so far and its FLOPs")
    directions = ("maximize", "minimize")  # validation accuracy up, FLOPs down

    def _library_tell(self, token: Any, index: int, valid_acc: float) -> None:
        token.set_constraint("flops", self._constraint(index))
        self._lib.tell(token, [valid_acc, float(self.context.flops[index])])

    def _library_reject(self, token: Any, index: int, violation: float) -> None:
        token.set_constraint("flops", violation)
        self._lib.tell(token, [min(self._told, default=0.0), float(self.context.flops[index])])


@register("optuna:nsga2-mo")
class OptunaNSGA2MO(OptunaMultiObjective):
    """Optuna's NSGA-II (NSGAIISampler) on two objectives: validation accuracy and FLOPs.

    The sampler and its parameters are ``optuna:nsga2``'s; only the study has two objectives.
    """

    Params = OptunaNSGA2.Params
    _sampler = OptunaNSGA2._sampler


@register("optuna:tpe-mo")
class OptunaTPEMO(OptunaMultiObjective):
    """Optuna's multi-objective TPE (TPESampler on two objectives): accuracy and FLOPs.

    The sampler and its parameters are ``optuna:tpe``'s; only the study has two objectives.
    """

    Params = OptunaTPE.Params
    _sampler = OptunaTPE._sampler
