"""The experimental protocol, the published presets, and the view an algorithm is given.

``Protocol`` says what is being compared (dataset, fidelity, FLOPs constraint, query budget
and, optionally, a budget in simulated training seconds). ``PRESETS`` are the protocols of the
papers this harness reproduces, each with its source.
``SearchContext`` is everything an algorithm may know before spending budget: the search
space, the free cost of every architecture and the constraint. It holds no accuracy at all, so
an algorithm cannot see test (or validation) accuracy except through ``tell``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from nas_harness.benchmarks.datasets import get_dataset
from nas_harness.benchmarks.errors import ProtocolError, UnknownNameError
from nas_harness.benchmarks.space import SSS, SearchSpace
from nas_harness.benchmarks.table import FIDELITIES, DatasetTable

DEFAULT_BUDGET = 500
DEFAULT_FLOPS_FRACTION = 0.5


@dataclass(frozen=True)
class Protocol:
    """What a run is judged under.

    Attributes:
        dataset: canonical dataset name (aliases are normalised).
        budget: number of accuracy queries (each costs one unit; cost queries are free).
        fidelity: ``"90"`` (hp=90, default) or ``"12"`` (hp=12, one random seed per query,
            as NATS-Bench; needs a table built from the official archive).
        max_flops_fraction: feasible architectures have FLOPs at most this fraction of the
            largest model's FLOPs on the dataset; ``None`` removes the constraint.
        budget_seconds: a budget in simulated seconds (``None``: queries only). Each query is
            charged what NATS-Bench's ``simulate_train_eval(..., hp='12')`` charges: the hp=12
            training time plus per-epoch validation time of the seed drawn for it
            (``DatasetTable.hp12_time``); a run ends when the next query would take the clock
            past ``budget_seconds`` (NATS-Bench's scripts stop once the clock has passed the
            budget, so their last query may overrun it; this harness never overruns).
            ``budget`` still caps the number of queries. Needs ``fidelity="12"``.
        free_signals: training-free proxies the algorithm may read (``("naswot", "ntk")``;
            given as ``"ntk,naswot"`` or a list, stored sorted); reading any other fails.
        proxy_query_cost: what each architecture's first proxy evaluation costs, as a
            fraction of a query (0: free). The oracle deducts the accumulated charge from the
            query budget, so "free" and "charged" views of a proxy compare honestly.
    """

    dataset: str = "cifar10"
    budget: int = DEFAULT_BUDGET
    fidelity: str = "90"
    max_flops_fraction: float | None = DEFAULT_FLOPS_FRACTION
    budget_seconds: float | None = None
    free_signals: tuple[str, ...] = ()
    proxy_query_cost: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "dataset", get_dataset(self.dataset).name)
        object.__setattr__(self, "free_signals", signal_names(self.free_signals))
        cost = self.proxy_query_cost
        if isinstance(cost, bool) or not isinstance(cost, (int, float, np.number)) \
                or not 0 <= cost <= 1:
            raise ProtocolError(f"proxy_query_cost is a fraction of a query in [0, 1] (0: "
                                f"free), got {cost!r}")
        object.__setattr__(self, "proxy_query_cost", float(cost))
        if cost and not self.free_signals:
            raise ProtocolError("proxy_query_cost charges proxy reads, but no free signal is "
                                "declared; add --free-signals NAME[,NAME]")
        object.__setattr__(self, "fidelity", str(self.fidelity))
        if self.fidelity not in FIDELITIES:
            raise UnknownNameError(
                f"unknown fidelity {self.fidelity!r}; choose one of: {', '.join(FIDELITIES)}"
            )
        if not isinstance(self.budget, (int, np.integer)) or self.budget < 1:
            raise ProtocolError(f"the query budget must be a positive integer, got {self.budget!r}")
        if self.max_flops_fraction is not None and not 0 < self.max_flops_fraction <= 1:
            raise ProtocolError(  # inf and nan too: None ('none') is how to say no constraint
                f"max_flops_fraction must be in (0, 1] like 0.5, or None ('none' on the command "
                f"line) for no constraint; got {self.max_flops_fraction!r}"
            )
        if self.budget_seconds is not None:
            seconds = self.budget_seconds
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float, np.number)) \
                    or not math.isfinite(seconds) or seconds <= 0:
                raise ProtocolError(
                    f"the time budget must be a positive number of seconds, got {seconds!r}")
            object.__setattr__(self, "budget_seconds", float(seconds))
            if self.fidelity != "12":
                raise ProtocolError(
                    "a time budget charges hp=12 training time (NATS-Bench's "
                    "simulate_train_eval(..., hp='12')); use it with --fidelity 12 (or "
                    "--protocol natsbench)")

    def max_flops(self, table: DatasetTable) -> float:
        """The FLOPs limit (in MFLOPs) on this dataset: a fraction of the largest model's."""
        if self.max_flops_fraction is None:
            return float("inf")
        return float(self.max_flops_fraction * np.nanmax(table.flops))


_SIGNAL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def signal_names(value: str | Sequence[str]) -> tuple[str, ...]:
    """Free-signal names as a sorted tuple without duplicates (``"ntk,naswot"`` or a list)."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names = sorted({str(v).strip().lower() for v in items if str(v).strip()})
    bad = [n for n in names if not _SIGNAL_NAME.match(n)]
    if bad:
        raise ProtocolError(f"free signal {bad[0]!r} is not a proxy name; give names like "
                            "ntk,naswot (see `nas-harness proxies list`)")
    return tuple(names)


class FreeSignals:
    """The proxies a protocol declares, read through a meter that charges first evaluations.

    One instance per run (it counts); an algorithm reaches it as ``context.signal(...)``.
    """

    def __init__(self, columns: Mapping[str, np.ndarray], cost: float = 0.0) -> None:
        self._columns = {name: np.asarray(col) for name, col in sorted(columns.items())}
        for col in self._columns.values():
            col.setflags(write=False)
        self._cost = float(cost)
        size = len(next(iter(self._columns.values()))) if self._columns else 0
        self._seen = {name: np.zeros(size, dtype=bool) for name in self._columns}
        self.evaluations = 0

    @property
    def declared(self) -> tuple[str, ...]:
        """The names the protocol declares."""
        return tuple(self._columns)

    @property
    def charged(self) -> float:
        """Queries' worth charged so far (evaluations x cost)."""
        return self.evaluations * self._cost

    def read(self, name: str, indices: np.ndarray | None = None) -> np.ndarray:
        """The proxy's scores of ``indices`` (all architectures when None); NaN = unscored."""
        if name not in self._columns:
            declared = ", ".join(self._columns) or "none"
            raise ProtocolError(
                f"the algorithm read free signal {name!r}, which this run's protocol does not "
                f"declare (declared: {declared}); run with --free-signals {name} (or "
                f"free_signals in the experiment's [protocol])")
        seen = self._seen[name]
        if indices is None:
            self.evaluations += int((~seen).sum())
            seen[:] = True
            return self._columns[name]
        idx = np.asarray(indices, dtype=np.int64)
        fresh = np.unique(idx[~seen[idx]])
        self.evaluations += len(fresh)
        seen[fresh] = True
        return self._columns[name][idx]


@dataclass(frozen=True, eq=False)
class SearchContext:
    """What an algorithm knows for free: space, cost of every architecture, constraint, budget.

    ``flops`` and ``params`` are dense arrays over all architecture indices (read-only), so
    ``context.flops[indices]`` is the vectorised, free cost query.
    """

    space: SearchSpace
    flops: np.ndarray
    params: np.ndarray
    max_flops: float
    budget: int
    signals: FreeSignals | None = None

    def signal(self, name: str, indices: np.ndarray | None = None) -> np.ndarray:
        """A declared training-free proxy's scores (larger = better); undeclared: ProtocolError.

        Each architecture's first read is charged ``proxy_query_cost`` of a query.
        """
        if self.signals is None:
            raise ProtocolError(
                f"the algorithm read free signal {name!r}, but this run's protocol declares "
                f"no free signals; run with --free-signals {name} (or free_signals in the "
                "experiment's [protocol])")
        return self.signals.read(name, indices)

    def is_feasible(self, indices: np.ndarray | int) -> np.ndarray:
        """Whether architectures satisfy the FLOPs constraint (vectorised, free)."""
        return self.flops[indices] <= self.max_flops

    def feasible_indices(self) -> np.ndarray:
        """All architecture indices that satisfy the constraint, ascending."""
        return np.flatnonzero(self.flops <= self.max_flops)

    @classmethod
    def for_protocol(cls, table: DatasetTable, protocol: Protocol,
                     space: SearchSpace = SSS) -> SearchContext:
        """The context of ``protocol`` on ``table``; refuses a constraint nobody satisfies."""
        max_flops = protocol.max_flops(table)
        context = cls(space=space, flops=table.flops, params=table.params,
                      max_flops=max_flops, budget=int(protocol.budget))
        if not np.any(table.flops[table.available] <= max_flops):
            raise ProtocolError(
                f"no architecture with data satisfies FLOPs <= {max_flops:.4f}M on "
                f"{protocol.dataset}; raise max_flops_fraction"
            )
        seconds = protocol.budget_seconds
        if seconds is not None and table.hp12_time is None:
            raise ProtocolError(
                f"a time budget needs hp=12 training times, which the table of "
                f"{protocol.dataset} lacks; build it from the official archive: "
                "`nas-harness data build --from NATS-sss-v1_0-50262-simple.tar`")
        if seconds is not None and table.hp12_time is not None:
            fastest = float(np.nanmin(table.hp12_time[table.available]))
            if fastest * protocol.budget < seconds:  # the query cap could end a run first
                need = math.ceil(seconds / fastest)
                raise ProtocolError(
                    f"a query cap of {protocol.budget} could end a {seconds:g}-second run on "
                    f"{protocol.dataset} before its clock does (the fastest query takes "
                    f"{fastest:.1f} s); use --budget {need} or more")
        return context


TIME_BUDGET_QUERY_CAP = 2_000
"""Query cap of a time-budgeted preset. It never binds: a sweep is refused when the cap times
the fastest query's hp=12 time is below the time budget (``SearchContext.for_protocol``), and
it keeps the analysis's runs x queries matrices small."""


@dataclass(frozen=True)
class ProtocolPreset:
    """A published protocol: what ``--protocol NAME`` sets, and where it comes from.

    Attributes:
        name: the ``--protocol`` value.
        fidelity: the fidelity whose validation accuracy rewards a query.
        max_flops_fraction: FLOPs constraint (None: none).
        runs: runs per algorithm and dataset.
        budget: query budget (under a time budget: a cap that never binds, see
            :data:`TIME_BUDGET_QUERY_CAP`).
        budget_seconds: per dataset, the budget in simulated seconds (None: queries only).
        algorithms: the algorithms of the source's experiment that this harness has (empty:
            ``reproduce`` keeps the experiment's own list).
        source: where each number comes from.
    """

    name: str
    fidelity: str
    max_flops_fraction: float | None
    runs: int
    budget: int
    budget_seconds: Mapping[str, float] | None = None
    algorithms: tuple[str, ...] = ()
    source: str = ""
    summary: str = field(default="", compare=False)


PRESETS: dict[str, ProtocolPreset] = {
    "natsbench": ProtocolPreset(
        name="natsbench", fidelity="12", max_flops_fraction=None, runs=500,
        budget=TIME_BUDGET_QUERY_CAP,
        budget_seconds={"cifar10": 20000.0, "cifar100": 40000.0, "ImageNet16-120": 60000.0},
        algorithms=("random", "evolution", "reinforce"),
        source=(
            "NATS-Bench (Dong et al., TPAMI 2021) size-space baselines, AutoDL-Projects "
            "exps/NATS-algos/{random_wo_share,regularized_ea,reinforce}.py: each query is "
            "api.simulate_train_eval(arch, dataset, hp='12') (hp=12 validation accuracy of one "
            "random seed, clock charged its training + per-epoch validation time), the best "
            "architecture is reported with hp=90 test accuracy, no FLOPs constraint; "
            "--loops_if_rand default 500 runs; time budgets 20000/40000/60000 s for "
            "CIFAR-10/CIFAR-100/ImageNet16-120 on the size space (exps/NATS-algos/run-all.sh "
            "and exps/NATS-Bench/draw-fig6.py: 'cifar10-T20000', 'cifar100-T40000', "
            "'ImageNet16-120-T60000'). The harness's evolution and REINFORCE defaults are "
            "those scripts' (population 10, tournament 3; learning rate 0.01). BOHB is not "
            "in this harness."),
        summary="hp=12 reward, hp=90 test reported, 20000/40000/60000 simulated seconds, "
                "no FLOPs constraint, 500 runs"),
    "layernas": ProtocolPreset(
        name="layernas", fidelity="12", max_flops_fraction=DEFAULT_FLOPS_FRACTION, runs=100,
        budget=DEFAULT_BUDGET,
        algorithms=(),  # the paper's experiment's own list (experiments/paper.toml)
        source=(
            "LayerNAS (Fan et al., 2023) NATS-Bench size-space experiment: FLOPs at most 50% "
            "of the largest model, 100 runs, a query budget (500, this harness's reproduce "
            "default), queries rewarded as NATS-Bench's own baselines do (hp=12 validation "
            "accuracy of one random seed; Papers with Code lists LayerNAS's CIFAR-10 "
            "validation accuracy as 84.4, a 12-epoch value), hp=90 test accuracy reported."),
        summary="hp=12 reward, hp=90 test reported, FLOPs <= 50% of the largest model, "
                "100 runs of 500 queries"),
}


def get_preset(name: str) -> ProtocolPreset:
    """The preset called ``name`` (case-insensitive)."""
    key = str(name).strip().lower()
    if key not in PRESETS:
        raise UnknownNameError(
            f"unknown protocol {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[key]
