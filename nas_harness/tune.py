"""The tuning protocol: one budget, one validation-only score, its own seeds, for every algorithm.

``tune("evolution")`` evaluates at most ``configurations`` parameter settings of an algorithm,
each over ``runs`` runs of ``queries`` queries on every dataset, through the ordinary sweep
(:func:`nas_harness.sweep.run_sweep`). A setting's score is what a practitioner can see: the
validation accuracy of each run's final incumbent, averaged over runs and datasets. Test
accuracy is never read (the trajectories carry it; the scoring drops that column before anything
else). The runs use :data:`TUNING_MASTER_SEED` and labels ``tune-cNN``, so their seeds are
disjoint from every reported run (master seed 0 by default, labels = algorithm names); master
seed 0 is refused. The result is an auditable record: every setting, its per-dataset means and
standard errors, its score, and the choice (highest score; ties go to the earlier setting).

A multi-objective algorithm is scored by ``score="hypervolume"`` instead: per run, the
hypervolume of the front of the architectures it evaluated, chosen and scored by validation
accuracy, normalised by the exact validation front's (FLOPs as cost, the published reference
point of :mod:`nas_harness.analysis.metrics.fronts`), averaged over runs and datasets.

The candidate settings (a grid, or published presets then random draws from the declared
ranges) are :mod:`nas_harness.tune_candidates`'; its public names are re-exported here.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nas_harness import __version__
from nas_harness.algorithms.params import params_to_dict, parse_params
from nas_harness.algorithms.registry import resolve_algorithm
from nas_harness.benchmarks.datasets import DATASET_NAMES
from nas_harness.benchmarks.protocol import DEFAULT_BUDGET, DEFAULT_FLOPS_FRACTION
from nas_harness.benchmarks.table import BenchmarkTable
from nas_harness.tune_candidates import (
    TUNING_MASTER_SEED,
    TuningError,
    candidate_configurations,
    tunable_params,
)

__all__ = [
    "DEFAULT_CONFIGS",
    "DEFAULT_RUNS",
    "TUNING_MASTER_SEED",
    "ConfigScore",
    "TuningBudget",
    "TuningError",
    "TuningResult",
    "candidate_configurations",
    "tunable_params",
    "tune",
]

REPORTING_MASTER_SEED = 0
DEFAULT_CONFIGS = 16
DEFAULT_RUNS = 20
SCORE = ("mean over datasets of the mean over runs of the final incumbent's validation "
         "accuracy (%); test accuracy is never read")
HV_SCORE = ("mean over datasets of the mean over runs of the normalised validation hypervolume "
            "at the budget (the evaluated architectures' front by validation accuracy and "
            "FLOPs, over the exact validation front's, published reference point); test "
            "accuracy is never read")
SCORES: dict[str, str] = {"accuracy": SCORE, "hypervolume": HV_SCORE}
"""The tuning scores by name; ``accuracy`` is the default."""


@dataclass(frozen=True)
class TuningBudget:
    """The common tuning budget: at most configurations x runs x datasets x queries."""

    configurations: int = DEFAULT_CONFIGS
    runs: int = DEFAULT_RUNS
    queries: int = DEFAULT_BUDGET
    datasets: tuple[str, ...] = DATASET_NAMES

    def __post_init__(self) -> None:
        for name in ("configurations", "runs", "queries"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise TuningError(f"the tuning budget's {name} must be a positive integer, "
                                  f"got {value!r}")

    @property
    def max_queries(self) -> int:
        """Queries the budget allows in all."""
        return self.configurations * self.runs * len(self.datasets) * self.queries

    def describe(self, used_configurations: int | None = None) -> str:
        """One line stating the budget (and how much of it a tuning used)."""
        n = self.configurations if used_configurations is None else used_configurations
        return (f"budget: {n} of at most {self.configurations} configurations x "
                f"{self.runs} runs x {len(self.datasets)} datasets x {self.queries} queries = "
                f"{n * self.runs * len(self.datasets) * self.queries:,} queries")

    def to_dict(self) -> dict[str, Any]:
        """JSON record."""
        return {"configurations": self.configurations, "runs": self.runs,
                "queries": self.queries, "datasets": list(self.datasets),
                "max_queries": self.max_queries}


@dataclass(frozen=True)
class ConfigScore:
    """One evaluated setting: the tuned values, where it came from, and its scores."""

    index: int
    origin: str
    params: Mapping[str, Any]
    per_dataset: Mapping[str, Mapping[str, float]]
    score: float

    def to_dict(self) -> dict[str, Any]:
        """JSON record (NaN, for a setting with runs that found no feasible incumbent, as None)."""
        def clean(x: float) -> float | None:
            return None if not math.isfinite(x) else round(float(x), 6)

        return {"index": self.index, "origin": self.origin, "params": dict(self.params),
                "per_dataset": {d: {k: clean(v) for k, v in s.items()}
                                for d, s in self.per_dataset.items()},
                "score": clean(self.score), "score_stderr": clean(self.stderr)}

    @property
    def stderr(self) -> float:
        """Standard error of the score (datasets independent): how much of a gap is noise."""
        sems = [s["stderr"] for s in self.per_dataset.values()]
        return math.sqrt(sum(x * x for x in sems)) / len(sems) if sems else float("nan")


@dataclass(frozen=True)
class TuningResult:
    """The auditable record of one tuning."""

    algorithm: str
    budget: TuningBudget
    protocol: Mapping[str, Any]
    master_seed: int
    fixed_params: Mapping[str, Any]
    configurations: tuple[ConfigScore, ...]
    chosen: int
    table_checksum: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    score_kind: str = "accuracy"

    @property
    def best(self) -> ConfigScore:
        """The chosen setting."""
        return self.configurations[self.chosen]

    def chosen_params(self) -> dict[str, Any]:
        """The full parameters of the chosen setting."""
        return {**self.fixed_params, **self.best.params}

    def to_dict(self) -> dict[str, Any]:
        """The JSON record written to ``results/tuning/<algorithm>.json``."""
        return {
            "algorithm": self.algorithm,
            "score": SCORES[self.score_kind],
            "rule": "highest score; ties go to the earlier configuration",
            "budget": self.budget.to_dict(),
            "configurations_evaluated": len(self.configurations),
            "protocol": dict(self.protocol),
            "master_seed": self.master_seed,
            "seeds": "labels tune-cNN under the tuning master seed: disjoint from every "
                     "reported run (labels = algorithm names, master seed 0 by default)",
            "fixed_params": dict(self.fixed_params),
            "configurations": [c.to_dict() for c in self.configurations],
            "chosen": {"index": self.best.index, "params": dict(self.best.params),
                       "full_params": self.chosen_params(), "score": self.best.to_dict()["score"]},
            "table_checksum": self.table_checksum,
            "nas_harness": __version__,
            **dict(self.extra),
        }

    def describe(self) -> str:
        """A human summary: the budget, every setting with its score, the choice."""
        lines = [f"tuning {self.algorithm} -- {self.budget.describe(len(self.configurations))}",
                 f"score: {SCORES[self.score_kind]}"]
        width = max(len(_fmt(c.params)) for c in self.configurations)
        for c in self.configurations:
            mark = "*" if c.index == self.chosen else " "
            digits = 2 if self.score_kind == "accuracy" else 4
            per = "  ".join(f"{d} {s['mean']:.{digits}f}" for d, s in c.per_dataset.items())
            lines.append(f"{mark} c{c.index:02d} {_fmt(c.params):<{width}}  {c.score:8.3f} "
                         f"+- {c.stderr:.3f}  "
                         f"({per}; {c.origin})")
        lines.append(f"chosen: c{self.chosen:02d} {_fmt(self.best.params)}")
        return "\n".join(lines)


def _fmt(params: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items()) or "(defaults)"


# -- running ----------------------------------------------------------------------------------

def _final_hv(frame: Any, table: BenchmarkTable, datasets: Sequence[str]) -> Any:
    """Per run, the normalised validation hypervolume at its last query (``final`` column)."""
    import pandas as pd

    from nas_harness.analysis.metrics.fronts import FrontScorer

    rows = []
    for dataset in datasets:
        scorer = FrontScorer(table[dataset], "flops", split="valid")
        part = frame[frame["dataset"] == dataset].sort_values(["algorithm", "run", "query"],
                                                              kind="stable")
        for (label, run), log in part.groupby(["algorithm", "run"], sort=False):
            curve = scorer.hv_curve(log["arch_index"].to_numpy(), log["valid_acc"].to_numpy())
            rows.append({"dataset": dataset, "algorithm": label, "run": run,
                         "final": float(curve[-1]) if len(curve) else float("nan")})
    return pd.DataFrame(rows, columns=["dataset", "algorithm", "run", "final"])


def _scores(frame: Any, labels: Sequence[str], datasets: Sequence[str],
            runs: int) -> list[tuple[dict[str, dict[str, float]], float]]:
    """Per label: per-dataset mean and standard error of the final incumbent's validation acc."""
    final = frame.loc[frame.groupby(["dataset", "algorithm", "run"])["query"].idxmax()]
    return _per_label(final.rename(columns={"incumbent_valid_acc": "final"}), labels, datasets,
                      runs)


def _per_label(final: Any, labels: Sequence[str], datasets: Sequence[str],
               runs: int) -> list[tuple[dict[str, dict[str, float]], float]]:
    """Per label: per-dataset mean and standard error of each run's ``final`` value."""
    out = []
    for label in labels:
        per: dict[str, dict[str, float]] = {}
        for dataset in datasets:
            rows = final[(final["algorithm"] == label) & (final["dataset"] == dataset)]
            vals = rows["final"].to_numpy(dtype=float)
            if len(vals) != runs or not np.isfinite(vals).all():
                mean = float("nan")                  # a run without a feasible incumbent
            else:
                mean = float(vals.mean())
            sem = float(vals.std(ddof=1) / math.sqrt(len(vals))) if len(vals) > 1 else 0.0
            per[dataset] = {"mean": mean, "stderr": sem}
        means = [p["mean"] for p in per.values()]
        out.append((per, float(np.mean(means)) if all(map(math.isfinite, means))
                    else float("nan")))
    return out


def tune(name: str, *, budget: TuningBudget | None = None,
         grid: Mapping[str, Sequence[str]] | None = None, fidelity: str = "90",
         max_flops_fraction: float | None = DEFAULT_FLOPS_FRACTION,
         master_seed: int = TUNING_MASTER_SEED, table: BenchmarkTable | None = None,
         workers: int | None = None, runs_dir: Path | str | None = None,
         progress: bool = False, score: str = "accuracy") -> TuningResult:
    """Tune ``name`` (a registered name or ``family:preset``) under the common budget.

    Args:
        name: the algorithm; a preset's values are the starting point the settings override.
        budget: configurations x runs x datasets x queries (default: the common budget).
        grid: ``{param: [values]}`` to evaluate instead of the declared ranges.
        fidelity: the protocol's training budget, ``"90"`` or ``"12"``.
        max_flops_fraction: the protocol's constraint, as for ``run``.
        master_seed: the tuning runs' master seed (never the reporting seed 0).
        table: the benchmark table (default: the one ``NAS_HARNESS_DATA`` names).
        workers: local processes for the runs (default: the cores).
        runs_dir: keep the tuning runs there (default: a temporary directory, removed).
        progress: show progress on stderr: what is tuned, and the sweep's progress (a bar on
            a terminal, plain lines otherwise).
        score: ``accuracy`` (the final incumbent's validation accuracy) or ``hypervolume``
            (the normalised validation hypervolume at the budget, for multi-objective
            searchers); see :data:`SCORES`.
    """
    from nas_harness.benchmarks.run_files import load_runs
    from nas_harness.experiment import AlgorithmSpec, SweepSpec
    from nas_harness.progress import note
    from nas_harness.sweep import run_sweep

    budget = budget or TuningBudget()
    if score not in SCORES:
        raise TuningError(f"unknown tuning score {score!r}; use one of {', '.join(SCORES)}")
    if isinstance(master_seed, bool) or not isinstance(master_seed, int) or master_seed < 0:
        raise TuningError(f"the tuning master seed must be a non-negative integer, "
                          f"got {master_seed!r}")
    if master_seed == REPORTING_MASTER_SEED:
        raise TuningError(f"master seed {REPORTING_MASTER_SEED} is the reporting runs' seed; "
                          f"tuning uses its own (default {TUNING_MASTER_SEED})")
    cls, preset = resolve_algorithm(name)
    candidates = candidate_configurations(name, budget.configurations, grid, master_seed)
    tuned = sorted({k for _, c in candidates for k in c})
    base = params_to_dict(parse_params(cls, dict(preset)))
    fixed = {k: v for k, v in base.items() if k not in tuned}
    labels = [f"tune-c{i:02d}" for i in range(len(candidates))]
    specs = tuple(AlgorithmSpec(name, tuple(config.items()), label)
                  for label, (_, config) in zip(labels, candidates, strict=True))
    sweep = SweepSpec(algorithms=specs, datasets=budget.datasets, runs=budget.runs,
                      budget=budget.queries, fidelity=fidelity,
                      max_flops_fraction=max_flops_fraction, master_seed=master_seed)
    if table is None:
        from nas_harness.benchmarks.data.store import load_table

        table = load_table()
    with tempfile.TemporaryDirectory(prefix="nas-harness-tune-") as tmp:
        out = Path(runs_dir) if runs_dir is not None else Path(tmp)
        note(f"tuning {name}: {budget.describe(len(candidates))}", progress)
        result = run_sweep(sweep, out, workers=workers, progress=progress, table=table)
        if result.failures:
            first = result.failures[0]
            raise TuningError(f"{len(result.failures)} tuning runs failed (first: "
                              f"{first.run_id}: {first.error}); nothing was chosen")
        frame = load_runs(out, algorithms=labels)
    # the score reads validation accuracy only: drop everything else first
    if score == "accuracy":
        frame = frame[["dataset", "algorithm", "run", "query", "incumbent_valid_acc"]]
        scored = _scores(frame, labels, sweep.datasets, budget.runs)
    else:
        frame = frame[["dataset", "algorithm", "run", "query", "arch_index", "valid_acc"]]
        scored = _per_label(_final_hv(frame, table, sweep.datasets), labels, sweep.datasets,
                            budget.runs)
    configs = tuple(ConfigScore(i, origin, config, per, score)
                    for i, ((origin, config), (per, score))
                    in enumerate(zip(candidates, scored, strict=True)))
    finite = [c for c in configs if math.isfinite(c.score)]
    if not finite:
        raise TuningError(f"no setting of {name} found a feasible architecture in every run; "
                          "raise the queries per run")
    chosen = max(finite, key=lambda c: (c.score, -c.index)).index
    protocol = {"fidelity": sweep.fidelity, "max_flops_fraction": sweep.max_flops_fraction,
                "budget": sweep.budget}
    return TuningResult(name, budget, protocol, master_seed, fixed, configs, chosen,
                        table.provenance.checksum, score_kind=score)

