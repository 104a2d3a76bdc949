"""The multi-objective results directory: hv.csv, budgets.csv, tests, figures and a summary.

Reads the runs of the three budget modes (see :mod:`nas_harness.analysis.metrics.budgets`) and
writes aggregates only: no per-architecture accuracies (the exact fronts appear as figures).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nas_harness.analysis.metrics import budgets as bm
from nas_harness.analysis.metrics.front_runs import FRONT_COLUMNS, FrontCurves, front_curves
from nas_harness.analysis.metrics.fronts import FrontScorer, attainment, hypervolume
from nas_harness.analysis.metrics.significance import holm, mann_whitney
from nas_harness.benchmarks.run_files import load_runs
from nas_harness.benchmarks.table import BenchmarkTable

TRAJ_COLUMNS = (*FRONT_COLUMNS, "flops")
ALPHA = 0.05


@dataclass(frozen=True)
class ModeRuns:
    """Where each mode's runs are: the one search, and per fraction split and separate."""

    one: Path
    split: Mapping[float, Path]
    separate: Mapping[float, Path]


def _load(path: Path | None) -> pd.DataFrame:
    if path is None or not Path(path).is_dir():
        return pd.DataFrame(columns=list(TRAJ_COLUMNS))
    return load_runs(path, columns=list(TRAJ_COLUMNS))


def hv_tests(curves: FrontCurves, pairs: Sequence[tuple[str, str]],
             queries: Sequence[int]) -> pd.DataFrame:
    """Mann-Whitney U of normalised HV per (a, b) pair, dataset and number of queries.

    Two-sided; Holm's adjustment over the whole table.
    """
    out = []
    for q in queries:
        at = curves.runs.assign(hv=curves.hv[:, q - 1])
        for ds, part in at.groupby("dataset", sort=True):
            for a, b in pairs:
                xa = part.loc[part["algorithm"] == a, "hv"].to_numpy()
                xb = part.loc[part["algorithm"] == b, "hv"].to_numpy()
                if len(xa) and len(xb):
                    t = mann_whitney(xa, xb)
                    out.append((q, ds, a, b, float(xa.mean()), float(xb.mean()), t.a12,
                                t.p_value))
    frame = pd.DataFrame(out, columns=["queries", "dataset", "a", "b", "mean_a", "mean_b",
                                       "a12", "p"])
    frame["p_holm"] = holm(frame["p"].to_numpy()) if len(frame) else []
    return frame


def igd_summary(curves: FrontCurves) -> pd.DataFrame:
    """IGD+ to the exact test front at the checkpoints: mean and quartiles over runs."""
    per_run = curves.per_run()
    rows = []
    for (alg, ds, q), part in per_run.groupby(["algorithm", "dataset", "queries"], sort=True):
        values = part["igd_plus"].to_numpy(dtype=float)
        rows.append((alg, ds, q, float(np.mean(values)), float(np.quantile(values, 0.25)),
                     float(np.quantile(values, 0.75))))
    return pd.DataFrame(rows, columns=["algorithm", "dataset", "queries", "mean", "q25", "q75"])


def _claim(row: pd.Series, what: str) -> str:
    better = row["a12"] > 0.5
    if row["p_holm"] < ALPHA:
        verdict = f"**{row['a']}** {'above' if better else 'below'} {row['b']}"
    else:
        verdict = f"{row['a']} vs {row['b']}: no significant difference"
    return (f"- {row['dataset']}, {row['queries']} queries: {verdict} on {what} "
            f"({row['mean_a']:.3f} vs "
            f"{row['mean_b']:.3f}, A12 {row['a12']:.2f}, Holm p = {row['p_holm']:.2g})")


def summary_text(hv_final: pd.DataFrame, hv_test: pd.DataFrame, mode_test: pd.DataFrame,
                 budgets: pd.DataFrame, budget: int, valid_final: pd.DataFrame) -> str:
    """The short results summary: every claim with its test (Mann-Whitney U, Holm)."""
    lines = ["# Pareto fronts: results summary", "",
             f"Normalised HV after {budget} queries (mean over runs; test: the attained front "
             "chosen by validation, scored by test against the exact test front; valid: scored "
             "by validation against the exact validation front, the score choices may use):",
             ""]
    table = hv_final.pivot(index="algorithm", columns="dataset", values="mean")
    valid = valid_final.pivot(index="algorithm", columns="dataset", values="mean")
    lines.append("| algorithm | " + " | ".join(f"{d} test | {d} valid" for d in table.columns)
                 + " |")
    lines.append("|---|" + "---|---|" * len(table.columns))
    for alg, row in table.iterrows():
        cells = [f"{row[d]:.3f} | {valid.loc[alg, d]:.3f}" for d in table.columns]
        lines.append(f"| {alg} | " + " | ".join(cells) + " |")
    for alg in valid.index:
        base = str(alg).removesuffix("-linear")
        if alg != base and base in valid.index:
            pick = base if valid.loc[base].mean() >= valid.loc[alg].mean() else alg
            lines += ["", f"Coefficient spread chosen on validation (mean validation HV over "
                      f"datasets): **{pick}** ({base} {valid.loc[base].mean():.4f}, {alg} "
                      f"{valid.loc[alg].mean():.4f}); both are reported."]
    lines += ["", "Normalised HV after 100 and after all queries, two-sided Mann-Whitney U, "
              "Holm over this list:", ""]
    lines += [_claim(r, "normalised HV") for _, r in hv_test.iterrows()]
    lines += ["", "One search for all budgets against split (same total queries) and separate "
              "(three times the queries), test accuracy of the chosen model; Mann-Whitney U, "
              "Holm over all cells:", ""]
    for other in ("split", "separate"):
        part = mode_test[mode_test["mode_b"] == other]
        sig = part[part["p_holm"] < ALPHA]
        up = int((sig["a12"] > 0.5).sum())
        down = int((sig["a12"] < 0.5).sum())
        lines.append(f"- one vs {other}: one search better in {up}, worse in {down}, not "
                     f"significantly different in {len(part) - up - down} of {len(part)} "
                     "(algorithm, dataset, fraction) cells" + (
                         " (separate under the loosest fraction is the one search itself, "
                         "not tested)" if other == "separate" else ""))
        for _, r in sig.iterrows():
            lines.append(f"  - {r['algorithm']}, {r['dataset']}, FLOPs <= "
                         f"{r['flops_fraction']:g}: {r['mean_a']:.2f} vs {r['mean_b']:.2f} "
                         f"(A12 {r['a12']:.2f}, Holm p = {r['p_holm']:.2g})")
    one = budgets[budgets["mode"] == "one"]
    if len(one):
        worst = one.loc[one["regret"].idxmax()]
        lines.append(f"- largest mean regret of one search: {worst['regret']:.2f} points "
                     f"({worst['algorithm']}, {worst['dataset']}, FLOPs <= "
                     f"{worst['flops_fraction']:g})")
    return "\n".join(lines) + "\n"


def write_results(modes: ModeRuns, table: BenchmarkTable, out: Path | str, *, budget: int,
                  fractions: Sequence[float], cost: str = "flops",
                  hv_pairs: Sequence[tuple[str, str]] = (), mode_algorithm: str = "",
                  label_modes: Mapping[str, Sequence[str]] | None = None,
                  query_step: int = 10) -> list[Path]:
    """Compute everything from the runs and write the results directory; returns the files."""
    from nas_harness.analysis.plots import fronts as figs

    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    one = _load(modes.one)
    datasets = [d for d in table.names if d in set(one["dataset"])]
    scorers = {ds: FrontScorer(table[ds], cost) for ds in datasets}
    checkpoints = tuple(sorted({q for q in (100, 250, budget) if q <= budget}))
    curves = front_curves(one, table, budget, cost=cost, checkpoints=checkpoints,
                          scorers=scorers)
    grid = [1, *range(query_step, budget + 1, query_step)]
    hv = curves.summary(grid)
    written = []
    hv_path = out / "hv.csv"
    hv.drop(columns="n").to_csv(hv_path, index=False, float_format="%.6g")
    igd_summary(curves).to_csv(out / "igd.csv", index=False, float_format="%.6g")
    written.append(out / "igd.csv")
    final = curves.summary([budget])
    hv_test = hv_tests(curves, hv_pairs, sorted({min(100, budget), budget}))
    valid_scorers = {ds: FrontScorer(table[ds], cost, split="valid") for ds in datasets}
    valid_final = front_curves(one, table, budget, cost=cost, scorers=valid_scorers
                               ).summary([budget])
    valid_final.drop(columns=["queries", "n"]).rename(columns={
        "mean": "valid_hv_mean", "q25": "valid_hv_q25", "q75": "valid_hv_q75"}).to_csv(
        out / "hv_valid.csv", index=False, float_format="%.6g")
    written.append(out / "hv_valid.csv")
    split = {f: _load(p) for f, p in modes.split.items()}
    separate = {f: _load(p) for f, p in modes.separate.items()}
    rows = bm.per_run(one, split, separate, table, fractions, budget, label_modes)
    budgets = bm.summarize(rows, table)
    mode_test = bm.mode_tests(rows)
    for name, frame in (("budgets.csv", budgets), ("hv_tests.csv", hv_test),
                        ("budget_tests.csv", mode_test)):
        frame.to_csv(out / name, index=False, float_format="%.6g")
        written.append(out / name)
    written.insert(0, hv_path)
    loosest = max(fractions)
    reachable = {}
    for ds, s in scorers.items():
        fit = s.front.cost <= loosest * float(np.nanmax(table[ds].flops))
        reachable[ds] = hypervolume(s.front.cost[fit], s.front.accuracy[fit], s.ref) / s.front_hv
    figures = {"hv_over_queries.png": figs.hv_figure(hv, datasets, reachable)}
    surfaces: dict[str, dict[str, np.ndarray]] = {}
    index = one.sort_values(["algorithm", "dataset", "run", "query"], kind="stable")
    for (ds, alg), part in index.groupby(["dataset", "algorithm"], sort=True):
        sets = [scorers[ds].attained(r["arch_index"].to_numpy(), r["valid_acc"].to_numpy())
                for _, r in part.groupby("run", sort=True)]
        surfaces.setdefault(str(ds), {})[str(alg)] = attainment(sets, scorers[ds].ref, 50.0)
    fronts = {ds: (s.front.cost, s.front.accuracy) for ds, s in scorers.items()}
    figures["attainment_50.png"] = figs.attainment_figure(surfaces, fronts, datasets)
    for alg in sorted(budgets["algorithm"].unique()):
        if not mode_algorithm or alg == mode_algorithm:
            figures[f"budgets_{alg.replace(':', '_')}.png"] = figs.budgets_figure(
                budgets, datasets, alg)
    for name, fig in figures.items():
        figs.save(fig, out / "figures" / name)
        written.append(out / "figures" / name)
    summary = out / "summary.md"
    summary.write_text(summary_text(final, hv_test, mode_test, budgets, budget, valid_final),
                       encoding="utf-8")
    written.append(summary)
    return written


def report_section(results_dir: Path | str) -> str:
    """Markdown of a fronts results directory for the main report (empty when it has none).

    The report includes it with one line: ``text += report_section("results/fronts")``.
    """
    root = Path(results_dir)
    summary = root / "summary.md"
    if not summary.is_file():
        return ""
    body = summary.read_text(encoding="utf-8").split("\n", 1)[1].strip()
    figures = sorted((root / "figures").glob("*.png")) if (root / "figures").is_dir() else []
    first = [f for f in figures if not f.name.startswith("budgets_")]
    images = "\n".join(f"![{f.stem}]({f.relative_to(root.parent).as_posix()})" for f in first)
    return f"## Pareto fronts\n\n{body}\n\n{images}\n"
