"""What a sweep runs: algorithm specs, the sweep specification, the paper's experiment.

These records validate their own fields (names, labels, runs, seed, protocol) on construction,
so a bad sweep fails before anything is planned or written. Planning against the registry and
the benchmark table is :func:`nas_harness.sweep.plan_sweep`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.datasets import DATASET_NAMES, get_dataset
from benchmarks.errors import ProtocolError
from benchmarks.protocol import DEFAULT_BUDGET, DEFAULT_FLOPS_FRACTION, Protocol

__all__ = [
    "MAX_RUNS",
    "PAPER_ALGORITHMS",
    "AlgorithmSpec",
    "SweepSpec",
    "reproduce_spec",
]

PAPER_ALGORITHMS: tuple[str, ...] = (
    "layernas", "random", "evolution", "ppo", "reinforce",
)
"""The algorithms of the paper's experiment (``nas-harness reproduce``)."""
MAX_RUNS = 100_000


@dataclass(frozen=True)
class AlgorithmSpec:
    """An algorithm of a sweep: registry name, parameter overrides, results label.

    ``label`` (default: the name) names the results directory and enters the run's seed key,
    so the same algorithm with two parameter settings needs two labels.
    """

    name: str
    params: tuple[tuple[str, Any], ...] = ()
    label: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.params, Mapping):
            object.__setattr__(self, "params", tuple(sorted(self.params.items())))
        object.__setattr__(self, "params", tuple((str(k), v) for k, v in self.params))
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @classmethod
    def coerce(cls, item: AlgorithmSpec | str | Sequence[Any]) -> AlgorithmSpec:
        """An AlgorithmSpec from a name, ``(name, params)`` or ``(name, params, label)``."""
        if isinstance(item, AlgorithmSpec):
            return item
        if isinstance(item, str):
            return cls(item)
        parts = tuple(item)
        if not 1 <= len(parts) <= 3:
            raise ProtocolError(f"an algorithm spec is NAME, (NAME, PARAMS) or "
                                f"(NAME, PARAMS, LABEL); got {item!r}")
        name = parts[0]
        params = parts[1] if len(parts) > 1 else {}
        label = parts[2] if len(parts) > 2 else ""
        return cls(str(name), tuple(dict(params or {}).items()), str(label))


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep runs: every algorithm on every dataset, ``runs`` times, one protocol.

    Attributes:
        algorithms: algorithm specs (names, ``(name, params)`` pairs or AlgorithmSpec).
        datasets: dataset names (aliases accepted; normalised).
        runs: runs per (algorithm, dataset), indices ``0..runs-1``.
        budget: queries per run.
        fidelity: ``"90"`` (default) or ``"12"``.
        max_flops_fraction: FLOPs at most this fraction of the largest model (None: no limit).
        master_seed: entropy of every run's ``SeedSequence`` (fixed, so sweeps reproduce).
        budget_seconds: a budget in simulated hp=12 training seconds (``None``: queries only):
            one number for every dataset, or ``((dataset, seconds), ...)`` / a mapping per
            dataset (the NATS-Bench preset's budgets differ by dataset).
    """

    algorithms: tuple[Any, ...]
    datasets: tuple[str, ...] = DATASET_NAMES
    runs: int = 100
    budget: int = DEFAULT_BUDGET
    fidelity: str = "90"
    max_flops_fraction: float | None = DEFAULT_FLOPS_FRACTION
    master_seed: int = 0
    budget_seconds: float | tuple[tuple[str, float], ...] | None = None

    def __post_init__(self) -> None:
        algos = tuple(AlgorithmSpec.coerce(a) for a in (
            (self.algorithms,) if isinstance(self.algorithms, (str, AlgorithmSpec))
            else self.algorithms))
        if not algos:
            raise ProtocolError("a sweep needs at least one algorithm")
        labels = [a.label for a in algos]
        if len(set(labels)) != len(labels):
            raise ProtocolError(
                f"algorithm labels must be unique in a sweep, got {labels}; give each setting "
                "its own label"
            )
        datasets = tuple(get_dataset(d).name for d in (
            (self.datasets,) if isinstance(self.datasets, str) else self.datasets))
        if not datasets:
            raise ProtocolError("a sweep needs at least one dataset")
        if len(set(datasets)) != len(datasets):
            raise ProtocolError(f"a dataset is listed twice: {list(self.datasets)}")
        if isinstance(self.runs, bool) or not isinstance(self.runs, int) \
                or not 1 <= self.runs <= MAX_RUNS:
            raise ProtocolError(f"runs must be an integer in 1..{MAX_RUNS}, got {self.runs!r}")
        if isinstance(self.master_seed, bool) or not isinstance(self.master_seed, int) \
                or self.master_seed < 0:
            raise ProtocolError(
                f"the master seed must be a non-negative integer, got {self.master_seed!r}")
        object.__setattr__(self, "algorithms", algos)
        object.__setattr__(self, "datasets", datasets)
        seconds = self.budget_seconds
        if isinstance(seconds, Mapping) or (seconds is not None and not isinstance(
                seconds, (int, float))):
            per = {get_dataset(d).name: float(v) for d, v in dict(seconds).items()}
            missing = [d for d in datasets if d not in per]
            if missing:
                raise ProtocolError(f"the time budget names no seconds for {', '.join(missing)}")
            seconds = tuple((d, per[d]) for d in datasets)
        elif seconds is not None:
            seconds = float(seconds)
        object.__setattr__(self, "budget_seconds", seconds)
        # the protocol checks budget, fidelity, fraction and seconds with clear messages
        for dataset in datasets:
            Protocol(dataset, budget=self.budget, fidelity=self.fidelity,
                     max_flops_fraction=self.max_flops_fraction,
                     budget_seconds=self.seconds_for(dataset))
        object.__setattr__(self, "fidelity", str(self.fidelity))

    def seconds_for(self, dataset: str) -> float | None:
        """The time budget of ``dataset`` in simulated seconds (None: queries only)."""
        if self.budget_seconds is None or isinstance(self.budget_seconds, float):
            return self.budget_seconds
        return dict(self.budget_seconds)[get_dataset(dataset).name]

    @property
    def num_runs(self) -> int:
        """Number of runs in the sweep."""
        return len(self.algorithms) * len(self.datasets) * self.runs


def reproduce_spec(runs: int = 100, budget: int = DEFAULT_BUDGET,
                   master_seed: int = 0, *, fidelity: str = "90",
                   max_flops_fraction: float | None = DEFAULT_FLOPS_FRACTION,
                   budget_seconds: Any = None,
                   algorithms: tuple[str, ...] = PAPER_ALGORITHMS) -> SweepSpec:
    """The paper's experiment: five algorithms, three datasets, FLOPs <= 50% of the largest.

    The keyword arguments let a protocol preset (``reproduce --protocol``) change the reward
    fidelity, constraint, time budget and algorithm list; the defaults are the hp=90 run.
    """
    return SweepSpec(algorithms=algorithms, datasets=DATASET_NAMES, runs=runs,
                     budget=budget, fidelity=fidelity, max_flops_fraction=max_flops_fraction,
                     master_seed=master_seed, budget_seconds=budget_seconds)
