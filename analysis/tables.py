"""The result tables in Markdown and CSV: criteria per (dataset, algorithm) and checkpoints.

CSV files keep full precision (for re-analysis); Markdown files are rounded for reading.
``inf`` in an efficiency column means the median run never got there within the budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.plots.curves import dataset_order, panel_title
from analysis.plots.style import algorithm_order

DEFAULT_CHECKPOINTS: tuple[int, ...] = (50, 100, 200, 500)


def _fmt(value: object, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "> budget" if value > 0 else "-inf"
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(frame: pd.DataFrame,
                   formats: dict[str, Callable[[object], str]] | None = None) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (no extra dependency)."""
    formats = formats or {}
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    lines = [header, rule]
    for row in frame.itertuples(index=False):
        cells = [formats.get(c, _fmt)(v) for c, v in zip(frame.columns, row, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _order(frame: pd.DataFrame) -> pd.DataFrame:

    ds = {d: i for i, d in enumerate(dataset_order(frame["dataset"].unique()))}
    alg = {a: i for i, a in enumerate(algorithm_order(frame["algorithm"].unique()))}
    key = frame["dataset"].map(ds) * 10_000 + frame["algorithm"].map(alg)
    return frame.assign(_k=key).sort_values("_k", kind="stable").drop(columns="_k")


def html_table(frame: pd.DataFrame) -> str:
    """An HTML table of a display frame (cells already formatted as text)."""
    from html import escape

    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(_fmt(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def criteria_display(crit: pd.DataFrame) -> pd.DataFrame:
    """The criteria table for reading: quality, stability, efficiency, optimum share (text)."""
    crit = _order(crit)
    view = pd.DataFrame({
        "dataset": crit["dataset"].map(panel_title),
        "algorithm": crit["algorithm"],
        "runs": crit["n_runs"],
        "quality: mean ± std (%)": [f"{_fmt(m)} ± {_fmt(s)}"
                                    for m, s in zip(crit["final_mean"], crit["final_std"],
                                                    strict=True)],
        "stability: IQR (pts)": crit["final_iqr"],
        "stability: std (pts)": crit["final_std"],
        "efficiency: queries to optimum (median)": crit["queries_to_optimum"],
        "efficiency: queries to within 0.1 of final (median)": crit["queries_to_settle"],
        "found optimum (%)": 100.0 * crit["found_optimum"],
    })
    whole = {"efficiency: queries to optimum (median)",
             "efficiency: queries to within 0.1 of final (median)", "found optimum (%)"}
    for column in view.columns:
        digits = 0 if column in whole else 2
        view[column] = [_fmt(v, digits) for v in view[column]]
    return view.reset_index(drop=True)


def criteria_markdown(crit: pd.DataFrame) -> str:
    """The criteria table as Markdown."""
    return markdown_table(criteria_display(crit))


def checkpoint_table(summary: pd.DataFrame,
                     checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS) -> pd.DataFrame:
    """Mean, s.e., quartiles and n of the incumbent's test accuracy at each checkpoint.

    Checkpoints beyond a group's budget are dropped; one row per (dataset, algorithm, query).
    """
    rows = summary[summary["query"].isin([int(c) for c in checkpoints])]
    cols = ["dataset", "algorithm", "query", "n_runs", "n", "mean", "sem", "std",
            "q25", "median", "q75"]
    return _order(rows[cols]).reset_index(drop=True)


def checkpoint_display(table: pd.DataFrame) -> pd.DataFrame:
    """Checkpoints as one row per (dataset, algorithm), one ``mean ± s.e.`` column per query."""
    cells = table.assign(cell=[f"{_fmt(m)} ± {_fmt(s)}" for m, s in
                               zip(table["mean"], table["sem"], strict=True)])
    wide = cells.pivot(index=["dataset", "algorithm"], columns="query", values="cell")
    wide.columns = [f"{q} queries" for q in wide.columns]
    wide = _order(wide.reset_index())
    wide["dataset"] = wide["dataset"].map(panel_title)
    return wide.fillna("").reset_index(drop=True)


def checkpoint_markdown(table: pd.DataFrame) -> str:
    """The checkpoint table as Markdown."""
    if table.empty:
        return "(no checkpoint within the budget)\n"
    return markdown_table(checkpoint_display(table))


@dataclass(frozen=True)
class TablePaths:
    """Files written by :func:`write_tables`."""

    criteria_csv: Path
    criteria_md: Path
    checkpoints_csv: Path
    checkpoints_md: Path


def write_tables(crit: pd.DataFrame, checkpoints: pd.DataFrame, out_dir: Path) -> TablePaths:
    """Write the criteria and checkpoint tables as CSV (full precision) and Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = TablePaths(out_dir / "criteria.csv", out_dir / "criteria.md",
                       out_dir / "checkpoints.csv", out_dir / "checkpoints.md")
    _order(crit).to_csv(paths.criteria_csv, index=False, float_format="%.6g")
    paths.criteria_md.write_text(criteria_markdown(crit), encoding="utf-8")
    checkpoints.to_csv(paths.checkpoints_csv, index=False, float_format="%.6g")
    paths.checkpoints_md.write_text(checkpoint_markdown(checkpoints), encoding="utf-8")
    return paths
