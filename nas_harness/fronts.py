"""The Pareto-front experiment: one search for all budgets, split, separate; then the results.

An experiment file is an ordinary experiment (:mod:`nas_harness.experiment_file`) plus a
``[fronts]`` table and, per algorithm, an optional ``modes`` list::

    output = "../results/fronts/runs"     # the runs (not committed)
    report = "../results/fronts"          # hv.csv, budgets.csv, tests, figures, summary.md
    [protocol]
    budget = 500                          # Q; no max_flops_fraction: the modes set it
    [fronts]
    fractions = [0.25, 0.5, 0.75]
    cost = "flops"
    hv_pairs = [["multi-distribution", "random"]]
    [[algorithms]]
    name = "optuna:nsga2-mo"
    modes = ["one"]                       # default: all three

It runs up to ``1 + 2m`` sweeps (``m`` fractions): ``one`` (Q queries under the loosest
fraction), ``split-F`` (Q/m queries under F) and ``separate-F`` (Q under F; under the loosest
fraction that is the ``one`` sweep itself, so it is not run twice). Every sweep uses the
experiment's master seed: a run of one label in two modes shares its seed stream (common
random numbers), which makes the unpaired tests between modes conservative.

``nas-harness reproduce`` cannot carry this: an experiment there is one sweep under one
protocol, and its report is the single-objective one.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas_harness.analysis.fronts_results import ModeRuns
from nas_harness.analysis.metrics.budgets import MODES, check_fractions, split_budget
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.fronts import check_cost
from nas_harness.experiment import SweepSpec
from nas_harness.experiment_file import Experiment, parse_experiment

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_FRONT_KEYS = frozenset({"fractions", "cost", "hv_pairs", "mode_algorithm"})


@dataclass(frozen=True)
class FrontsExperiment:
    """The base experiment (algorithms, datasets, runs, budget, seed) and the front options."""

    base: Experiment
    fractions: tuple[float, ...]
    cost: str
    modes: Mapping[str, tuple[str, ...]]
    hv_pairs: tuple[tuple[str, str], ...] = ()
    mode_algorithm: str = ""

    def sweeps(self) -> list[tuple[str, SweepSpec, Path]]:
        """``(name, spec, runs directory)`` of every sweep, in the order they run."""
        spec = self.base.spec
        out = self.base.output
        budget = spec.budget
        share = split_budget(budget, self.fractions)
        plan = []

        def sub(mode: str, fraction: float, queries: int) -> SweepSpec | None:
            algos = tuple(a for a in spec.algorithms if mode in self.modes[a.label])
            if not algos:
                return None
            return dataclasses.replace(spec, algorithms=algos, budget=queries,
                                       max_flops_fraction=fraction)

        loosest = max(self.fractions)
        one = sub("one", loosest, budget)
        if one is not None:
            plan.append(("one", one, out / "one"))
        for f in self.fractions:
            split = sub("split", f, share)
            if split is not None:
                plan.append((f"split-{f:g}", split, out / f"split-{f:g}"))
        for f in self.fractions:
            separate = sub("separate", f, budget)
            if separate is not None and f != loosest:
                plan.append((f"separate-{f:g}", separate, out / f"separate-{f:g}"))
        return plan

    def mode_runs(self) -> ModeRuns:
        """Where the analysis finds each mode's runs."""
        out = self.base.output
        loosest = max(self.fractions)
        return ModeRuns(
            one=out / "one",
            split={f: out / f"split-{f:g}" for f in self.fractions},
            separate={f: out / ("one" if f == loosest else f"separate-{f:g}")
                      for f in self.fractions})


def parse_fronts(data: Mapping[str, Any], base: Path, source: str) -> FrontsExperiment:
    """A :class:`FrontsExperiment` from parsed TOML (relative paths from ``base``)."""
    data = dict(data)
    fronts = data.pop("fronts", {})
    if not isinstance(fronts, Mapping):
        raise ProtocolError(f"{source}: fronts must be a table ([fronts])")
    unknown = sorted(set(fronts) - _FRONT_KEYS)
    if unknown:
        raise ProtocolError(f"{source}: [fronts] has unknown key(s) {', '.join(unknown)}; the "
                            f"keys are: {', '.join(sorted(_FRONT_KEYS))}")
    if "max_flops_fraction" in data.get("protocol", {}):
        raise ProtocolError(f"{source}: the modes set the FLOPs limit; give the fractions as "
                            "[fronts] fractions = [0.25, 0.5, 0.75], not "
                            "protocol.max_flops_fraction")
    algorithms = []
    modes_of: dict[int, tuple[str, ...]] = {}
    for i, item in enumerate(data.get("algorithms") or []):
        if isinstance(item, Mapping) and "modes" in item:
            item = dict(item)
            modes = item.pop("modes")
            if not isinstance(modes, list) or not modes or any(m not in MODES for m in modes):
                raise ProtocolError(f"{source}: algorithms[{i}].modes must be a non-empty list "
                                    f"of {', '.join(MODES)}; got {modes!r}")
            modes_of[i] = tuple(modes)
        algorithms.append(item)
    data["algorithms"] = algorithms
    base_exp = parse_experiment(data, base, source, "fronts")
    labels = [a.label for a in base_exp.spec.algorithms]
    modes = {label: modes_of.get(i, MODES) for i, label in enumerate(labels)}
    pairs = tuple(tuple(p) for p in fronts.get("hv_pairs", []))
    if any(len(p) != 2 or any(x not in labels for x in p) for p in pairs):
        raise ProtocolError(f"{source}: [fronts] hv_pairs must be pairs of algorithm labels of "
                            f"this experiment ({', '.join(labels)})")
    return FrontsExperiment(
        base=base_exp, fractions=check_fractions(fronts.get("fractions", (0.25, 0.5, 0.75))),
        cost=check_cost(str(fronts.get("cost", "flops"))), modes=modes,
        hv_pairs=pairs,  # type: ignore[arg-type]
        mode_algorithm=str(fronts.get("mode_algorithm", "")))


def load_fronts(path: Path | str) -> FrontsExperiment:
    """Read a fronts experiment file; any problem is one ProtocolError naming the file."""
    file = Path(path).expanduser()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProtocolError(f"experiment file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProtocolError(f"cannot read experiment file {str(path)!r}: {exc}") from None
    return parse_fronts(data, file.resolve().parent, str(file))


def run_fronts(experiment: FrontsExperiment, *, workers: int | None = None,
               progress: bool = True, analyse_only: bool = False) -> list[Path]:
    """Run every sweep not yet complete, then write the results directory."""
    from nas_harness.analysis.fronts_results import write_results
    from nas_harness.benchmarks.data.store import load_table
    from nas_harness.sweep import run_sweep

    table = load_table()
    if not analyse_only:
        for name, spec, out in experiment.sweeps():
            result = run_sweep(spec, out, workers=workers, progress=progress, table=table,
                               plugins=experiment.base.plugins)
            print(f"{name}: {result.describe()}", file=sys.stderr)
            if result.failures:
                raise ProtocolError(f"{len(result.failures)} runs of {name} failed; re-run the "
                                    "same command to retry them")
    spec = experiment.base.spec
    return write_results(experiment.mode_runs(), table, experiment.base.report_dir,
                         budget=spec.budget, fractions=experiment.fractions,
                         cost=experiment.cost, hv_pairs=experiment.hv_pairs,
                         mode_algorithm=experiment.mode_algorithm, label_modes=experiment.modes)
