"""The x-axis of a sweep made under a budget in simulated seconds: one time grid per dataset.

Each dataset has its own budget (NATS-Bench's 20000 / 40000 / 60000 s), so the grid is the
same fractions of every dataset's budget: :data:`TIME_GRID_POINTS` points, ``budget * j / n``
for ``j = 1..n`` (linear, as NATS-Bench's figures; the last point is the budget itself). The
curves of all runs then share one runs x grid matrix (a :class:`StepCurves` whose column ``j``
is the point ``j + 1`` of the run's own dataset grid), so the rank and significance code that
reads columns works unchanged; only the labels turn columns back into seconds.

Values follow :func:`nas_harness.analysis.metrics.aggregate.time_curves`: the value at ``t`` is
that of
the last query whose ``elapsed_s <= t`` (no interpolation, no look-ahead). A run never
overruns its budget, so the value at the budget is its last query's: the "final" value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nas_harness.analysis.metrics.aggregate import (
    KEY_COLUMNS,
    SUMMARY_COLUMNS,
    TIME_COLUMN,
    TIME_SUMMARY_COLUMNS,
    VALUE_COLUMN,
    StepCurves,
    summarize_curves,
    time_curves,
)
from nas_harness.benchmarks.errors import ProtocolError

TIME_GRID_POINTS = 400
TIME_CHECKPOINTS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0)
FRACTION_COLUMN = "budget_fraction"


@dataclass(frozen=True)
class TimeAxis:
    """Per dataset, the time budget and the grid the report reads the runs on.

    Attributes:
        budgets: dataset -> budget in simulated seconds.
        points: grid points per dataset (column ``j`` is ``budget * (j + 1) / points``).
    """

    budgets: Mapping[str, float]
    points: int = TIME_GRID_POINTS

    def seconds(self, dataset: str) -> np.ndarray:
        """The grid of ``dataset`` in simulated seconds (ascending, ending at its budget)."""
        steps = np.arange(1, self.points + 1, dtype=np.float64)
        return float(self.budgets[dataset]) * steps / self.points

    def column(self, fraction: float) -> int:
        """The 1-based grid column of a fraction of the budget (it must be a grid point)."""
        position = float(fraction) * self.points
        column = round(position)
        if not 1 <= column <= self.points or abs(position - column) > 1e-9:
            raise ProtocolError(
                f"time checkpoint {fraction!r} is not on the grid of {self.points} points per "
                f"budget; use multiples of 1/{self.points} in (0, 1], like 0.1, 0.25, 0.5, 1")
        return int(column)

    def columns(self, fractions: Sequence[float]) -> tuple[int, ...]:
        """The grid columns of the checkpoints ``fractions``, ascending, the budget included."""
        return tuple(sorted({self.column(f) for f in fractions} | {self.points}))

    def fraction(self, column: int) -> float:
        """The fraction of the budget at a 1-based grid column."""
        return column / self.points


def budget_curves(traj: pd.DataFrame, axis: TimeAxis,
                  columns: Sequence[str] = (VALUE_COLUMN,),
                  runs: pd.DataFrame | None = None) -> StepCurves:
    """Runs x grid matrices on every run's own dataset grid (see the module docstring).

    Rows are sorted as :func:`nas_harness.analysis.metrics.aggregate.step_curves` sorts them
    (algorithm,
    dataset, run), so ``groups()`` and the rank code work as on the query axis.
    """
    listed = traj[list(KEY_COLUMNS)]
    if runs is not None:
        listed = pd.concat([listed, runs[list(KEY_COLUMNS)]], ignore_index=True)
    keys_parts, value_parts = [], []
    for dataset in sorted(set(listed["dataset"])):
        if dataset not in axis.budgets:
            raise ProtocolError(f"no time budget for dataset {dataset!r}; the runs on it were "
                                "made under a query budget")
        part = traj[traj["dataset"] == dataset]
        listed_part = None if runs is None else runs[runs["dataset"] == dataset]
        curves = time_curves(part, axis.seconds(dataset), columns, runs=listed_part)
        keys_parts.append(curves.runs)
        value_parts.append(curves.values)
    if not keys_parts:
        return StepCurves(axis.points, listed.iloc[:0].reset_index(drop=True),
                          {c: np.empty((0, axis.points)) for c in columns})
    keys = pd.concat(keys_parts, ignore_index=True)
    order = keys.sort_values(["algorithm", "dataset", "run", "run_id"], kind="stable").index
    values = {c: np.concatenate([v[c] for v in value_parts])[order.to_numpy()] for c in columns}
    return StepCurves(axis.points, keys.loc[order].reset_index(drop=True), values)


def with_seconds(frame: pd.DataFrame, axis: TimeAxis, column: str = "query") -> pd.DataFrame:
    """A frame with its 1-based grid ``column`` turned into seconds and a budget fraction.

    ``column`` is replaced, in place, by ``elapsed_s`` (that row's dataset's seconds) and
    ``budget_fraction``, so a table on the time axis says where each row is in both units.
    """
    grid = frame[column].to_numpy(dtype=np.int64) - 1
    seconds = np.array([axis.seconds(str(d))[g] for d, g in
                        zip(frame["dataset"], grid, strict=True)], dtype=np.float64)
    out = frame.copy()
    place = list(out.columns).index(column)
    out = out.drop(columns=column)
    out.insert(place, TIME_COLUMN, seconds)
    out.insert(place + 1, FRACTION_COLUMN, (grid + 1) / axis.points)
    return out


def summarize_budget_curves(curves: StepCurves, axis: TimeAxis,
                            column: str = VALUE_COLUMN) -> pd.DataFrame:
    """The tidy summary on the time grid, one row per point.

    Columns: :data:`TIME_SUMMARY_COLUMNS` with ``budget_fraction`` after ``elapsed_s`` (the
    report's summary.csv keeps the former only; its checkpoint table reads the latter).
    """
    summary = summarize_curves(curves, column)[list(SUMMARY_COLUMNS)]
    columns = list(TIME_SUMMARY_COLUMNS)
    columns.insert(columns.index(TIME_COLUMN) + 1, FRACTION_COLUMN)
    return with_seconds(summary, axis)[columns]
