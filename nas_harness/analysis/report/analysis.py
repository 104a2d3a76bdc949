"""Aggregate a sweep once into :class:`Analysis`, the record every figure, table and page reads.

Three stages, each data in and data out:

1. the x-axis (:func:`query_axis` or :func:`clock_axis`): the runs' step curves on the report's
   x-axis, their summary, the checkpoint rows and the grid columns the statistics read;
2. the statistics (:func:`statistics`): pairwise tests and Friedman/Nemenyi ranks at those
   columns, the anytime measures over queries;
3. :func:`analyse`: both, with the reference lines, the criteria, the final values and the
   most frequent final architectures.

The two axes differ in stage 1 only: on queries the curves are the query curves; under a
budget in simulated seconds (``--budget-seconds``) they are on each dataset's time grid
(column ``j`` is grid point ``j + 1``), while the anytime measures and the criteria still read
the runs query by query (the criteria's efficiency on the simulated clock).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from nas_harness.analysis.metrics.aggregate import (
    TIME_COLUMN,
    TIME_SUMMARY_COLUMNS,
    VALUE_COLUMN,
    StepCurves,
    final_runs,
    step_curves,
    summarize_curves,
)
from nas_harness.analysis.metrics.anytime import anytime, spans_for, spent_queries
from nas_harness.analysis.metrics.architectures import most_frequent_final
from nas_harness.analysis.metrics.criteria import INDEX_COLUMN, criteria
from nas_harness.analysis.metrics.ranks import RankTest, friedman_nemenyi, ranks_over_queries
from nas_harness.analysis.metrics.references import References, references
from nas_harness.analysis.metrics.significance import pairwise_tests
from nas_harness.analysis.metrics.time_axis import (
    TIME_CHECKPOINTS,
    TimeAxis,
    budget_curves,
    summarize_budget_curves,
    with_seconds,
)
from nas_harness.analysis.plots.curves import dataset_order
from nas_harness.analysis.plots.style import algorithm_order
from nas_harness.analysis.runs import SweepResults
from nas_harness.analysis.tables import (
    DEFAULT_CHECKPOINTS,
    checkpoint_table,
    order_pairs,
    time_checkpoint_table,
)
from nas_harness.benchmarks.table import BenchmarkTable

RUN_KEYS = ["algorithm", "dataset", "run_id", "run"]


@dataclass(frozen=True)
class XAxis:
    """The report's x-axis: the curves on it, their summary, where the statistics read them.

    Attributes:
        curves: per run, the incumbent on the x grid (column ``j``: query ``j + 1``, or
            time-grid point ``j + 1``).
        by_query: per run, the incumbent query by query (what the anytime measures and the
            criteria count); on the query axis, ``curves`` itself.
        summary: the tidy summary table of ``curves``.
        checkpoints: the rows of the checkpoint table.
        stat_checkpoints: the 1-based grid columns of the pairwise tests and ranks.
        time_axis: the simulated clock; ``None`` on queries.
    """

    curves: StepCurves
    by_query: StepCurves
    summary: pd.DataFrame
    checkpoints: pd.DataFrame
    stat_checkpoints: tuple[int, ...]
    time_axis: TimeAxis | None = None

    @property
    def clock(self) -> str | None:
        """The matrix of ``by_query`` that the criteria's efficiency reads (``None``: queries)."""
        return None if self.time_axis is None else TIME_COLUMN

    def located(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A table keyed by grid column, with seconds and a budget fraction on the clock."""
        return frame if self.time_axis is None else with_seconds(frame, self.time_axis)


@dataclass(frozen=True)
class Statistics:
    """The tests and anytime measures of one analysis (see ``nas_harness.analysis.metrics``)."""

    significance: pd.DataFrame
    rank_test: RankTest
    ranks: pd.DataFrame
    anytime: pd.DataFrame
    aocc: pd.DataFrame
    ecdf: pd.DataFrame
    spans: Mapping[str, float]


@dataclass(frozen=True)
class Analysis:
    """Everything computed from one sweep (what the figures and tables are drawn from).

    Attributes:
        results: the runs.
        axis: the x-axis stage (curves, summary, checkpoints); under a budget in simulated
            seconds its ``time_axis`` is set, and the summary, checkpoint, significance and
            rank tables carry ``elapsed_s`` and ``budget_fraction`` in place of ``query``.
        refs: the reference lines per dataset, in the canonical dataset order.
        stats: the statistics stage (pairwise tests, ranks, anytime measures).
        criteria: quality, stability and efficiency per (dataset, algorithm).
        final: one row per run: its final incumbent.
        final_archs: the most frequent final architecture per (dataset, algorithm).
    """

    results: SweepResults
    axis: XAxis
    refs: Mapping[str, References]
    stats: Statistics
    criteria: pd.DataFrame
    final: pd.DataFrame
    final_archs: pd.DataFrame

    @property
    def time_axis(self) -> TimeAxis | None:
        """The simulated clock of a report under a time budget; ``None`` on queries."""
        return self.axis.time_axis


def stat_checkpoints(checkpoints: Sequence[int], budget: int) -> tuple[int, ...]:
    """The checkpoints of the statistics: those within the budget, and the budget itself."""
    return tuple(sorted({int(c) for c in checkpoints if 1 <= int(c) <= budget} | {budget}))


def query_axis(results: SweepResults, checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS) -> XAxis:
    """Stage 1 on queries: step curves over ``1..budget``, ``checkpoints`` in queries."""
    curves = step_curves(results.trajectories, results.budget, (VALUE_COLUMN, INDEX_COLUMN),
                         runs=results.complete[RUN_KEYS])
    summary = summarize_curves(curves)
    return XAxis(curves=curves, by_query=curves, summary=summary,
                 checkpoints=checkpoint_table(summary, checkpoints),
                 stat_checkpoints=stat_checkpoints(checkpoints, results.budget))


def clock_axis(results: SweepResults, fractions: Sequence[float] = TIME_CHECKPOINTS) -> XAxis:
    """Stage 1 on the simulated clock: each dataset's time grid, checkpoints at ``fractions``.

    The value at ``t`` is that of the last query that ended by ``t``; final values are at the
    time budget, which is always a checkpoint.
    """
    if results.budget_seconds is None:
        raise ValueError("the time axis needs runs made under --budget-seconds")
    runs = results.complete[RUN_KEYS]
    traj = results.trajectories
    axis = TimeAxis(results.budget_seconds)
    curves = budget_curves(traj, axis, (VALUE_COLUMN, INDEX_COLUMN), runs=runs)
    grid_summary = summarize_budget_curves(curves, axis)
    made = int(traj["query"].max()) if len(traj) else 1
    by_query = step_curves(traj, made, (VALUE_COLUMN, INDEX_COLUMN, TIME_COLUMN), runs=runs)
    points = axis.columns(fractions)
    return XAxis(curves=curves, by_query=by_query,
                 summary=grid_summary[list(TIME_SUMMARY_COLUMNS)],
                 checkpoints=time_checkpoint_table(grid_summary,
                                                   [axis.fraction(c) for c in points]),
                 stat_checkpoints=points, time_axis=axis)


def _samples_at(curves: StepCurves, datasets: Sequence[str], columns: Sequence[int]
                ) -> dict[tuple[str, int], dict[str, Any]]:
    """Per (dataset, 1-based grid column): each algorithm's run values there, for the tests."""
    matrix = curves[VALUE_COLUMN]
    return {(dataset, column): {alg: matrix[rows, column - 1]
                                for (alg, ds), rows in curves.groups() if ds == dataset}
            for dataset in datasets for column in columns}


def statistics(x: XAxis, results: SweepResults, table: BenchmarkTable,
               refs: Mapping[str, References]) -> Statistics:
    """Stage 2: pairwise tests and ranks at the x-axis's checkpoints, anytime over queries."""
    datasets = list(refs)
    algorithms = algorithm_order(results.complete["algorithm"].unique())
    samples = _samples_at(x.curves, datasets, x.stat_checkpoints)
    significance = x.located(order_pairs(pairwise_tests(samples, order=algorithms)))
    rank_test = friedman_nemenyi(x.curves, algorithms, datasets, x.stat_checkpoints)
    spans = spans_for({d: table[d] for d in datasets},
                      {d: results.protocol(d) for d in datasets}, refs)
    per_target, areas, ecdf = anytime(x.by_query, refs, spans, spent_queries(results.complete))
    return Statistics(significance=significance, rank_test=rank_test,
                      ranks=x.located(ranks_over_queries(x.curves, algorithms, datasets)),
                      anytime=per_target, aocc=areas, ecdf=ecdf, spans=spans)


def analyse(results: SweepResults, table: BenchmarkTable,
            checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS,
            time_checkpoints: Sequence[float] = TIME_CHECKPOINTS) -> Analysis:
    """Aggregate a sweep's runs once: curves, summary, references, criteria, statistics.

    Runs made under a budget in simulated seconds are read on the simulated clock
    (``time_checkpoints`` are fractions of each dataset's budget); otherwise on queries, with
    ``checkpoints`` in queries.
    """
    x = (query_axis(results, checkpoints) if results.budget_seconds is None
         else clock_axis(results, time_checkpoints))
    datasets = dataset_order(results.complete["dataset"].unique())
    refs = {d: references(table[d], results.protocol(d)) for d in datasets}
    final = final_runs(x.curves)
    return Analysis(results=results, axis=x, refs=refs,
                    stats=statistics(x, results, table, refs),
                    criteria=criteria(x.by_query, refs, clock=x.clock), final=final,
                    final_archs=most_frequent_final(final, {d: table[d] for d in datasets}))
