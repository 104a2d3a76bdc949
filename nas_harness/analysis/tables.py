"""The result tables in Markdown and CSV: criteria, checkpoints and the statistics tables.

CSV files keep full precision (for re-analysis); Markdown files are rounded for reading.
Every CSV starts with the same columns in the same order: dataset, algorithm (or the pair
``algorithm_a``, ``algorithm_b``), query -- on the time axis of a sweep under a budget in
simulated seconds, ``elapsed_s`` (and ``budget_fraction``) in place of query. ``inf`` in an
efficiency column means the median run never got there within the budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nas_harness.analysis.plots.curves import dataset_order, panel_title
from nas_harness.analysis.plots.style import algorithm_order

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
    if "seconds_to_optimum" in crit.columns:  # a time budget: efficiency in seconds
        crit = crit.rename(columns={"seconds_to_optimum": "queries_to_optimum",
                                    "seconds_to_settle": "queries_to_settle"})
        unit = "simulated seconds"
    else:
        unit = "queries"
    view = pd.DataFrame({
        "dataset": crit["dataset"].map(panel_title),
        "algorithm": crit["algorithm"],
        "runs": crit["n_runs"],
        "quality: mean ± std (%)": [f"{_fmt(m)} ± {_fmt(s)}"
                                    for m, s in zip(crit["final_mean"], crit["final_std"],
                                                    strict=True)],
        "stability: IQR (pts)": crit["final_iqr"],
        "stability: std (pts)": crit["final_std"],
        f"efficiency: {unit} to optimum (median)": crit["queries_to_optimum"],
        f"efficiency: {unit} to within 0.1 of final (median)": crit["queries_to_settle"],
        "found optimum (%)": 100.0 * crit["found_optimum"],
    })
    whole = {f"efficiency: {unit} to optimum (median)",
             f"efficiency: {unit} to within 0.1 of final (median)", "found optimum (%)"}
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


def time_checkpoint_table(summary: pd.DataFrame, fractions: Sequence[float]) -> pd.DataFrame:
    """:func:`checkpoint_table` on the time axis: rows at fractions of each time budget.

    ``summary`` has the ``elapsed_s`` and ``budget_fraction`` columns (a time-axis summary
    made by ``nas_harness.analysis.metrics.time_axis.with_seconds``); one row per (dataset,
    algorithm,
    checkpoint), with both columns.
    """
    wanted = np.asarray(fractions, dtype=float)
    at = np.isclose(summary["budget_fraction"].to_numpy(float)[:, None], wanted[None, :],
                    rtol=0.0, atol=1e-12).any(axis=1)
    cols = ["dataset", "algorithm", "elapsed_s", "budget_fraction", "n_runs", "n", "mean",
            "sem", "std", "q25", "median", "q75"]
    return _order(summary.loc[at, cols]).reset_index(drop=True)


def checkpoint_display(table: pd.DataFrame) -> pd.DataFrame:
    """Checkpoints as one row per (dataset, algorithm), one ``mean ± s.e.`` column per query.

    On the time axis (a ``budget_fraction`` column) one column per fraction of the budget.
    """
    cells = table.assign(cell=[f"{_fmt(m)} ± {_fmt(s)}" for m, s in
                               zip(table["mean"], table["sem"], strict=True)])
    timed = "budget_fraction" in table.columns
    wide = cells.pivot(index=["dataset", "algorithm"],
                       columns="budget_fraction" if timed else "query", values="cell")
    wide.columns = [f"{100 * q:g}% of the time budget" if timed else f"{q} queries"
                    for q in wide.columns]
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


# -- statistics tables (significance, ranks, anytime, final architectures) -------------------

def _ci(mean: float, low: float, high: float) -> str:
    if np.isnan(mean):
        return "n/a"
    return f"{mean:.2f} [{low:.2f}, {high:.2f}]"


def _p_text(value: float) -> str:
    if np.isnan(value):
        return "n/a"
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"  # same digits as the claims


def significance_display(sig: pd.DataFrame) -> pd.DataFrame:
    """The pairwise tests for reading: means with bootstrap CIs, corrected p, A12, verdict."""
    if sig.empty:
        return pd.DataFrame()
    verdict = [("not tested (" + n + ")") if np.isnan(p) else
               (f"{b} higher" if s else "no significant difference") + (f"; {n}" if n else "")
               for p, s, b, n in zip(sig["p_holm"], sig["significant"], sig["better"],
                                     sig["note"], strict=True)]
    at: dict[str, object] = ({"query": sig["query"]} if "elapsed_s" not in sig.columns else
                             {"simulated time (s)": [f"{t:g} ({100 * f:g}%)" for t, f in zip(
                                 sig["elapsed_s"], sig["budget_fraction"], strict=True)]})
    return pd.DataFrame({
        "dataset": sig["dataset"].map(panel_title),
        "A": sig["algorithm_a"], "B": sig["algorithm_b"], **at,
        "mean A [95% CI]": [_ci(m, lo, hi) for m, lo, hi in
                            zip(sig["mean_a"], sig["ci_low_a"], sig["ci_high_a"], strict=True)],
        "mean B [95% CI]": [_ci(m, lo, hi) for m, lo, hi in
                            zip(sig["mean_b"], sig["ci_low_b"], sig["ci_high_b"], strict=True)],
        "p (Holm)": [_p_text(p) for p in sig["p_holm"]],
        "A12 = P(A > B) (effect)": [("n/a" if np.isnan(a) else f"{a:.2f} ({e})")
                         for a, e in zip(sig["a12"], sig["effect"], strict=True)],
        "verdict": verdict,
    }).reset_index(drop=True)


def order_pairs(sig: pd.DataFrame) -> pd.DataFrame:
    """Pair rows in dataset order, then checkpoint, then the pair in the algorithm order."""
    if sig.empty:
        return sig
    ds = {d: i for i, d in enumerate(dataset_order(sig["dataset"].unique()))}
    algs = algorithm_order(set(sig["algorithm_a"]) | set(sig["algorithm_b"]))
    alg = {a: i for i, a in enumerate(algs)}
    key = pd.DataFrame({"d": sig["dataset"].map(ds), "q": sig["query"],
                        "a": sig["algorithm_a"].map(alg), "b": sig["algorithm_b"].map(alg)})
    return sig.loc[key.sort_values(["d", "q", "a", "b"], kind="stable").index].reset_index(
        drop=True)


def aocc_display(aocc: pd.DataFrame) -> pd.DataFrame:
    """AOCC per (dataset, algorithm) for reading."""
    if aocc.empty:
        return pd.DataFrame()
    frame = _order(aocc)
    return pd.DataFrame({
        "dataset": frame["dataset"].map(panel_title), "algorithm": frame["algorithm"],
        "runs": frame["n_runs"], "targets": frame["n_targets"],
        "AOCC (log queries)": [f"{v:.3f}" for v in frame["aocc"]],
        "targets reached at the budget (%)": [f"{100 * v:.1f}" for v in frame["final_fraction"]],
    }).reset_index(drop=True)


def anytime_display(per_target: pd.DataFrame,
                    fractions: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0)) -> pd.DataFrame:
    """Success rate / ERT at a few targets, as fractions of each dataset's regret span.

    Each dataset has its own span, so columns name the place in the grid (0: the
    best-by-validation architecture's accuracy, 100%: the median feasible one); the full
    grid is in anytime.csv.
    """
    if per_target.empty:
        return pd.DataFrame()
    rows = []
    for (dataset, algorithm), part in per_target.groupby(["dataset", "algorithm"], sort=False):
        part = part.sort_values("target_regret")
        row: dict[str, object] = {"dataset": dataset, "algorithm": algorithm}
        for f in fractions:
            r = part.iloc[round(f * (len(part) - 1))]
            ert = "inf" if math.isinf(r["ert"]) else f"{r['ert']:.0f}"
            row[f"regret {100 * f:.0f}% of span"] = (
                f"{100 * r['success_rate']:.0f}% / {ert} (≥ {r['target_acc']:.2f})")
        rows.append(row)
    wide = _order(pd.DataFrame(rows))
    wide["dataset"] = wide["dataset"].map(panel_title)
    return wide.reset_index(drop=True)


def write_frame(frame: pd.DataFrame, csv: Path, md: Path | None = None,
                display: pd.DataFrame | None = None) -> list[Path]:
    """Write ``frame`` as CSV (full precision) and, when given, its display as Markdown."""
    csv.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(csv, index=False, float_format="%.6g")
    if md is None:
        return [csv]
    shown = frame if display is None else display
    md.write_text(markdown_table(shown) if len(shown) else "(none)\n", encoding="utf-8")
    return [csv, md]
