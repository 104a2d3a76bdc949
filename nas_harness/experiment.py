"""What a sweep runs: algorithm specs, the sweep specification, the paper's experiment.

These records validate their own fields (names, labels, runs, seed, protocol) on construction,
so a bad sweep fails before anything is planned or written. Planning against the registry and
the benchmark table is :func:`nas_harness.sweep.plan_sweep`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nas_harness.benchmarks.datasets import DATASET_NAMES, get_dataset
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.protocol import DEFAULT_BUDGET, DEFAULT_FLOPS_FRACTION, Protocol

__all__ = [
    "MAX_LABEL_LENGTH",
    "MAX_RUNS",
    "PAPER_ALGORITHMS",
    "AlgorithmSpec",
    "SweepSpec",
    "check_label",
    "reproduce_spec",
]

PAPER_ALGORITHMS: tuple[str, ...] = (
    "layernas", "layernas:stand-in", "random", "evolution", "ppo", "reinforce",
)
"""The algorithms of the paper's experiment (``nas-harness reproduce``): the paper's five, plus
the harness's LayerNAS variant (``layernas:stand-in``) beside the paper's LayerNAS."""
MAX_RUNS = 100_000
MAX_LABEL_LENGTH = 64
"""Characters a label may have: it names a directory and is part of every run's seed key."""
_LABEL_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:+=,@-]*$")


def check_label(label: Any) -> str:
    """``label`` if it is a plain name, else a ProtocolError saying what a label may be.

    A label is a directory name under ``<out>/<dataset>/``: a path (``a/b``, ``../x``,
    ``/abs``), an empty or hidden name would write outside the results root or where
    ``report`` does not look; a name longer than :data:`MAX_LABEL_LENGTH` would fail only
    when the first file is written, so it is refused here too.
    """
    text = label if isinstance(label, str) else ""
    if len(text) > MAX_LABEL_LENGTH:
        raise ProtocolError(
            f"the label {text[:20]!r}... is {len(text)} characters long: a label has at most "
            f"{MAX_LABEL_LENGTH} (it names the results directory); shorten it, e.g. --label "
            "evolution-p20")
    if _LABEL_RE.match(text) and ".." not in text:
        return text
    why = ("is empty" if not str(label).strip() else
           "is a path" if any(c in str(label) for c in "/\\") or ".." in str(label) else
           "has characters a label may not have")
    raise ProtocolError(
        f"the label {label!r} {why}: a label is one directory name of letters, digits and "
        "_ . : + = , @ - (not starting with '.' or '-', no '/' or '..'); e.g. --label "
        "evolution-p20"
    )



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
        check_label(self.label)

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


PER_DATASET_OPTIONS = frozenset({"budget_seconds"})
"""Protocol options that may take one value per dataset."""


def _per_dataset(key: str, value: Any) -> Any:
    """A per-dataset option as sorted ``(dataset, value)`` pairs (hashable, canonical)."""
    if key not in PER_DATASET_OPTIONS:
        return tuple(value) if isinstance(value, list) else value  # a TOML list, hashable
    if isinstance(value, Mapping):
        value = tuple(value.items())
    if isinstance(value, (tuple, list)):
        return tuple(sorted((get_dataset(d).name, v) for d, v in value))
    return value


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
        protocol_options: further :class:`Protocol` fields by name (``(name, value)`` pairs or
            a mapping), for protocol fields beyond budget, fidelity and FLOPs fraction.
            ``budget_seconds`` may be one number or one per dataset (a mapping or
            ``(dataset, seconds)`` pairs: the NATS-Bench preset's budgets differ by dataset).
    """

    algorithms: tuple[Any, ...]
    datasets: tuple[str, ...] = DATASET_NAMES
    runs: int = 100
    budget: int = DEFAULT_BUDGET
    fidelity: str = "90"
    max_flops_fraction: float | None = DEFAULT_FLOPS_FRACTION
    master_seed: int = 0
    protocol_options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        options = self.protocol_options
        if isinstance(options, Mapping):
            options = tuple(options.items())
        object.__setattr__(self, "protocol_options",
                           tuple(sorted((str(k), _per_dataset(k, v)) for k, v in options)))
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
        # the protocol checks budget, fidelity, fraction and options with clear messages
        for dataset in datasets:
            self.protocol(dataset)
        object.__setattr__(self, "fidelity", str(self.fidelity))

    def protocol(self, dataset: str) -> Protocol:
        """The sweep's protocol on ``dataset``."""
        import dataclasses

        known = {f.name for f in dataclasses.fields(Protocol)} - {
            "dataset", "budget", "fidelity", "max_flops_fraction"}
        unknown = sorted(set(dict(self.protocol_options)) - known)
        if unknown:
            raise ProtocolError(
                f"unknown protocol field(s) {', '.join(unknown)}; the protocol has: budget, "
                f"fidelity, max_flops_fraction{''.join(', ' + k for k in sorted(known))}")
        return Protocol(dataset, budget=self.budget, fidelity=self.fidelity,
                        max_flops_fraction=self.max_flops_fraction,
                        **self.options_for(dataset))

    def options_for(self, dataset: str) -> dict[str, Any]:
        """``protocol_options`` on ``dataset``: a per-dataset value resolved to its own."""
        name = get_dataset(dataset).name
        out = {}
        for key, value in self.protocol_options:
            if key in PER_DATASET_OPTIONS and isinstance(value, tuple):
                per = dict(value)
                if name not in per:
                    raise ProtocolError(f"{key} names no value for {name} (it has: "
                                        f"{', '.join(per)})")
                value = per[name]
            out[key] = value
        return out

    @property
    def num_runs(self) -> int:
        """Number of runs in the sweep."""
        return len(self.algorithms) * len(self.datasets) * self.runs


def reproduce_spec(runs: int = 100, budget: int = DEFAULT_BUDGET,
                   master_seed: int = 0) -> SweepSpec:
    """The paper's experiment: :data:`PAPER_ALGORITHMS`, three datasets, FLOPs <= 50%."""
    return SweepSpec(algorithms=PAPER_ALGORITHMS, datasets=DATASET_NAMES, runs=runs,
                     budget=budget, fidelity="90", max_flops_fraction=DEFAULT_FLOPS_FRACTION,
                     master_seed=master_seed)
