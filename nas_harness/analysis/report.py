"""The report of a sweep: figures, tables, a Markdown summary and one self-contained HTML page.

``build_report(runs_dir, out_dir)`` is what ``nas-harness reproduce`` and ``nas-harness report``
call. It reads the runs and the benchmark table they were made with, aggregates once (the tidy
summary table every figure and table reads) and writes::

    out_dir/figures/{curves,final_distribution,flops_scatter,critical_difference,ranks,
                     ecdf}.{png,pdf}
    out_dir/tables/{summary,criteria,checkpoints,references,significance,ranks,anytime,aocc,
                    final_architectures}.csv (+ .md of criteria, checkpoints, significance,
                    ranks, aocc, final_architectures)
    out_dir/summary.md      (links the PNGs)
    out_dir/report.html     (figures embedded as base64 PNG; no other file needed)

The statistics (see ``nas_harness.analysis.metrics.significance``, ``.ranks``, ``.anytime``) are
computed
at the checkpoints within the budget plus the budget itself: pairwise Mann-Whitney U tests
Holm-corrected per (dataset, checkpoint) with A12 and bootstrap CIs, mean ranks with the
Friedman and Nemenyi tests, and target-based ECDF/AOCC/ERT. The summary states every
comparison at the budget with its test.

Runs made under a budget in simulated seconds (``--budget-seconds``, ``--protocol
natsbench``) are reported on the simulated clock (``nas_harness.analysis.metrics.time_axis``): the
curves
over seconds, the summary table on each dataset's time grid (``elapsed_s``), checkpoints,
pairwise tests and ranks at fractions of each dataset's budget, final values at the time
budget, the criteria's efficiency in seconds; the anytime targets count queries, as the
report says.

Nothing in the outputs depends on the time or the machine (no timestamps, PDF creation date
cleared, a seeded bootstrap), so a re-run on the same runs gives the same text files. The one
exception is the optional ``stamp`` (package version, commit, date, command line, experiment
file) a caller passes to :func:`build_report`: it is shown in ``report.html`` only, as the
"Produced by (provenance)" section, never in ``summary.md``.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
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
from nas_harness.analysis.metrics.anytime import N_TARGETS, anytime, spans_for, spent_queries
from nas_harness.analysis.metrics.architectures import arch_label, most_frequent_final
from nas_harness.analysis.metrics.criteria import INDEX_COLUMN, SETTLE_TOL, criteria
from nas_harness.analysis.metrics.ranks import (
    RankTest,
    friedman_nemenyi,
    rank_table,
    ranks_over_queries,
)
from nas_harness.analysis.metrics.references import References, references
from nas_harness.analysis.metrics.significance import ALPHA, claim, p_text, pairwise_tests
from nas_harness.analysis.metrics.time_axis import (
    FRACTION_COLUMN,
    TIME_CHECKPOINTS,
    TimeAxis,
    budget_curves,
    summarize_budget_curves,
    with_seconds,
)
from nas_harness.analysis.plots.curves import LEGEND_TITLE, dataset_order, panel_title, plot_curves
from nas_harness.analysis.plots.distributions import plot_final_distributions
from nas_harness.analysis.plots.ecdf import plot_ecdf
from nas_harness.analysis.plots.ranks import plot_critical_difference, plot_ranks
from nas_harness.analysis.plots.scatter import plot_flops_scatter
from nas_harness.analysis.plots.style import algorithm_order
from nas_harness.analysis.runs import REPORT_COLUMNS, SweepResults, load_results
from nas_harness.analysis.tables import (
    DEFAULT_CHECKPOINTS,
    anytime_display,
    aocc_display,
    checkpoint_display,
    checkpoint_table,
    criteria_display,
    html_table,
    markdown_table,
    order_pairs,
    significance_display,
    time_checkpoint_table,
    write_frame,
    write_tables,
)
from nas_harness.benchmarks.space import SSS
from nas_harness.benchmarks.table import BenchmarkTable

FIGURE_DPI = 150
FIGURES: dict[str, str] = {
    "curves": "Incumbent test accuracy over queries (mean, 25-75% band over runs)",
    "final_distribution": "Final test accuracy per run",
    "flops_scatter": "FLOPs and test accuracy of the architectures found, over the whole space",
    "critical_difference": "Critical-difference diagram: mean rank over (dataset, checkpoint, "
                           "run index) blocks, Nemenyi post-hoc test",
    "ranks": "Mean rank over runs at every query (1 = best), one panel per dataset",
    "ecdf": "Anytime ECDF: fraction of (run, target) pairs reached against queries, with AOCC",
}
MAIN_FIGURES: tuple[str, ...] = ("curves", "final_distribution", "flops_scatter")
SUMMARY_ORDER: tuple[str, ...] = ("dataset", "algorithm", "query")
TIME_SUMMARY_ORDER: tuple[str, ...] = ("dataset", "algorithm", TIME_COLUMN)


@dataclass(frozen=True)
class Analysis:
    """Everything computed from one sweep (what the figures and tables are drawn from).

    Under a budget in simulated seconds ``time_axis`` is set: ``curves`` are then on each
    dataset's time grid (column ``j`` is grid point ``j + 1``), ``stat_checkpoints`` are grid
    columns, and the summary, checkpoint, significance and rank tables carry ``elapsed_s``
    and ``budget_fraction`` in place of ``query``.
    """

    results: SweepResults
    curves: StepCurves
    summary: pd.DataFrame
    refs: Mapping[str, References]
    criteria: pd.DataFrame
    final: pd.DataFrame
    checkpoints: pd.DataFrame
    stat_checkpoints: tuple[int, ...]
    significance: pd.DataFrame
    rank_test: RankTest
    ranks: pd.DataFrame
    anytime: pd.DataFrame
    aocc: pd.DataFrame
    ecdf: pd.DataFrame
    spans: Mapping[str, float]
    final_archs: pd.DataFrame
    time_axis: TimeAxis | None = None


@dataclass(frozen=True)
class ReportPaths:
    """The files :func:`build_report` wrote."""

    out_dir: Path
    report: Path
    summary: Path
    summary_table: Path
    figures: tuple[Path, ...]
    tables: tuple[Path, ...]

    @property
    def path(self) -> Path:
        """The HTML report (what to open)."""
        return self.report


def analyse(results: SweepResults, table: BenchmarkTable,
            checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS,
            time_checkpoints: Sequence[float] = TIME_CHECKPOINTS) -> Analysis:
    """Aggregate a sweep's runs once: curves, summary, references, criteria, statistics.

    Runs made under a budget in simulated seconds are read on the simulated clock (see
    :func:`analyse_time`; ``time_checkpoints`` are fractions of each dataset's budget);
    otherwise on queries, with ``checkpoints`` in queries.
    """
    if results.budget_seconds is not None:
        return analyse_time(results, table, time_checkpoints)
    runs = results.complete[["algorithm", "dataset", "run_id", "run"]]
    curves = step_curves(results.trajectories, results.budget, (VALUE_COLUMN, INDEX_COLUMN),
                         runs=runs)
    summary = summarize_curves(curves)
    datasets = dataset_order(runs["dataset"].unique())
    algorithms = algorithm_order(runs["algorithm"].unique())
    refs = {d: references(table[d], results.protocol(d)) for d in datasets}
    points = stat_checkpoints(checkpoints, results.budget)
    samples = _samples_at(curves, datasets, points)
    significance = order_pairs(pairwise_tests(samples, order=algorithms))
    rank_test = friedman_nemenyi(curves, algorithms, datasets, points)
    spans = spans_for({d: table[d] for d in datasets},
                      {d: results.protocol(d) for d in datasets}, refs)
    per_target, areas, ecdf = anytime(curves, refs, spans, spent_queries(results.complete))
    final = final_runs(curves)
    return Analysis(results, curves, summary, refs, criteria(curves, refs), final,
                    checkpoint_table(summary, checkpoints), points, significance, rank_test,
                    ranks_over_queries(curves, algorithms, datasets), per_target, areas, ecdf,
                    spans, most_frequent_final(final, {d: table[d] for d in datasets}))


def analyse_time(results: SweepResults, table: BenchmarkTable,
                 fractions: Sequence[float] = TIME_CHECKPOINTS) -> Analysis:
    """:func:`analyse` for runs under a budget in simulated seconds: the clock is the x-axis.

    Curves, the summary, the checkpoints (``fractions`` of each dataset's budget, the budget
    included), the pairwise tests and the ranks are on the time grid; final values are at
    the time budget. The criteria's efficiency columns are simulated seconds (the clock when
    the query ended); the anytime targets count queries (each run's own, up to its budget),
    as the report says.
    """
    if results.budget_seconds is None:
        raise ValueError("analyse_time needs runs made under --budget-seconds")
    runs = results.complete[["algorithm", "dataset", "run_id", "run"]]
    traj = results.trajectories
    axis = TimeAxis(results.budget_seconds)
    curves = budget_curves(traj, axis, (VALUE_COLUMN, INDEX_COLUMN), runs=runs)
    grid_summary = summarize_budget_curves(curves, axis)
    summary = grid_summary[list(TIME_SUMMARY_COLUMNS)]
    made = int(traj["query"].max()) if len(traj) else 1
    by_query = step_curves(traj, made, (VALUE_COLUMN, INDEX_COLUMN, TIME_COLUMN), runs=runs)
    datasets = dataset_order(runs["dataset"].unique())
    algorithms = algorithm_order(runs["algorithm"].unique())
    refs = {d: references(table[d], results.protocol(d)) for d in datasets}
    points = axis.columns(fractions)
    samples = _samples_at(curves, datasets, points)
    significance = with_seconds(order_pairs(pairwise_tests(samples, order=algorithms)), axis)
    rank_test = friedman_nemenyi(curves, algorithms, datasets, points)
    spans = spans_for({d: table[d] for d in datasets},
                      {d: results.protocol(d) for d in datasets}, refs)
    per_target, areas, ecdf = anytime(by_query, refs, spans, spent_queries(results.complete))
    final = final_runs(curves)
    checkpoint_rows = time_checkpoint_table(grid_summary, [axis.fraction(c) for c in points])
    ranks = with_seconds(ranks_over_queries(curves, algorithms, datasets), axis)
    return Analysis(results, curves, summary, refs, criteria(by_query, refs, clock=TIME_COLUMN),
                    final, checkpoint_rows, points, significance, rank_test, ranks, per_target,
                    areas, ecdf, spans,
                    most_frequent_final(final, {d: table[d] for d in datasets}), axis)


def _samples_at(curves: StepCurves, datasets: Sequence[str], columns: Sequence[int]
                ) -> dict[tuple[str, int], dict[str, Any]]:
    """Per (dataset, 1-based grid column): each algorithm's run values there, for the tests."""
    matrix = curves[VALUE_COLUMN]
    return {(dataset, column): {alg: matrix[rows, column - 1]
                                for (alg, ds), rows in curves.groups() if ds == dataset}
            for dataset in datasets for column in columns}


def stat_checkpoints(checkpoints: Sequence[int], budget: int) -> tuple[int, ...]:
    """The checkpoints of the statistics: those within the budget, and the budget itself."""
    return tuple(sorted({int(c) for c in checkpoints if 1 <= int(c) <= budget} | {budget}))


def references_frame(refs: Mapping[str, References]) -> pd.DataFrame:
    """The reference lines as a table (one row per dataset; architectures also as strings)."""
    rows = []
    for ref in refs.values():
        row = asdict(ref)
        row["optimal_indices"] = " ".join(str(i) for i in ref.optimal_indices)
        row["best_by_valid_arch"] = SSS.format(ref.best_by_valid_index)
        row["best_test_arch"] = SSS.format(ref.best_test_index)
        rows.append(row)
    return pd.DataFrame(rows)


def _save(fig: Any, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    fig.savefig(png, dpi=FIGURE_DPI, metadata={"Software": None})
    # the PNG's draw placed every axes; keep those positions for the PDF rather than have the
    # layout engine measure every tick label again (a third of a figure's time)
    fig.set_layout_engine("none")
    fig.savefig(pdf, metadata={"CreationDate": None, "Producer": None, "Creator": None})
    return [png, pdf]


def _protocol_lines(a: Analysis) -> list[tuple[str, str]]:
    r = a.results
    complete = r.complete
    per_group = complete.groupby(["dataset", "algorithm"]).size()
    runs_text = (str(int(per_group.iloc[0])) if per_group.nunique() == 1
                 else f"{int(per_group.min())}-{int(per_group.max())} (varies)")
    limits = ", ".join(f"{panel_title(d)} {ref.max_flops:.2f} MFLOPs "
                       f"({ref.num_feasible} feasible)" for d, ref in a.refs.items())
    constraint = ("none" if r.max_flops_fraction is None else
                  f"FLOPs <= {r.max_flops_fraction:g} x the largest model's: {limits}")
    seeds = sorted(set(complete["master_seed"].dropna().astype(int)))
    lines = [
        ("datasets", ", ".join(panel_title(d) for d in a.refs)),
        ("algorithms", ", ".join(algorithm_order(complete["algorithm"].unique()))),
        ("fidelity", f"hp={r.fidelity} (validation accuracy drives the search; "
                     "test accuracy is only reported)"),
        ("constraint", constraint),
        ("budget", f"{r.budget} queries per run (each accuracy query costs 1; cost is free)"),
        ("runs", f"{runs_text} per (algorithm, dataset); {len(complete)} complete, "
                 f"{len(r.failed)} failed"),
        ("seeds", f"master seed {', '.join(map(str, seeds))}; each run's SeedSequence is keyed "
                  "by (algorithm, dataset, run), see the run sidecars"),
        ("incumbent", "best validation accuracy among feasible evaluated architectures "
                      "(ties keep the earlier); plotted: its test accuracy"),
        ("aggregation", "step function on queries 1..budget (value at k uses the first k "
                        "queries; a run that stopped early holds its last value); statistics "
                        "over the runs with a feasible incumbent at k (n in tables/summary.csv)"),
        ("efficiency", f"median over runs of the first query whose incumbent is the "
                       f"best-by-validation feasible architecture, and of the first query after "
                       f"which the incumbent stays within {SETTLE_TOL} points of its final "
                       "test accuracy ('> budget': the median run never got there)"),
    ]
    return lines if a.time_axis is None else _time_protocol_lines(a, lines)


def _time_protocol_lines(a: Analysis, lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The protocol lines of a time-budget report: budget, axis, checkpoints, efficiency."""
    axis = a.time_axis
    assert axis is not None
    datasets = list(a.refs)
    first, *rest = datasets
    per_dataset = ", ".join([f"{axis.budgets[first]:g} simulated seconds per run on "
                             f"{panel_title(first)}",
                             *(f"{axis.budgets[d]:g} on {panel_title(d)}" for d in rest)])
    budget = (f"{per_dataset} (each accuracy query is charged the "
              "hp=12 training and per-epoch validation time of the seed drawn for it, as "
              "NATS-Bench's simulate_train_eval; a run stops before a query would take its "
              f"clock past the budget), at most {a.results.budget} queries")
    fractions = ", ".join(f"{100 * axis.fraction(c):g}%" for c in a.stat_checkpoints)
    seconds = "; ".join(f"{panel_title(d)} " + ", ".join(
        f"{axis.seconds(d)[c - 1]:g}" for c in a.stat_checkpoints) + " s" for d in datasets)
    replaced = {
        "budget": budget,
        "aggregation": (f"step function on the simulated clock, {axis.points} points from "
                        f"budget/{axis.points} to the budget per dataset (the value at t is "
                        "that of the last query that ended by t: no interpolation, no "
                        "look-ahead; a run that stopped early holds its last value; final = "
                        "at the time budget); statistics over the runs with a feasible "
                        "incumbent at t (n in tables/summary.csv)"),
        "efficiency": (f"median over runs of the simulated time (s) at which the incumbent "
                       f"first is the best-by-validation feasible architecture, and after "
                       f"which it stays within {SETTLE_TOL} points of its final test "
                       "accuracy: the clock when that query ended ('> budget': the median "
                       "run never got there)"),
    }
    out = [(k, replaced.get(k, v)) for k, v in lines]
    place = [k for k, _ in out].index("aggregation") + 1
    out.insert(place, ("checkpoints", f"{fractions} of each dataset's time budget ({seconds}); "
                                      "the checkpoint table, pairwise tests and ranks are read "
                                      "there"))
    return out


def _at_budget(a: Analysis, sig: pd.DataFrame) -> pd.Series:
    """Rows of a pairwise-test table at the budget (the time budget on the time axis)."""
    if a.time_axis is None:
        return sig["query"] == a.results.budget
    return sig[FRACTION_COLUMN] == 1.0


def _provenance(table: BenchmarkTable) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    p = table.provenance
    facts = [("builder", p.builder), ("table checksum", p.checksum),
             ("schema version", str(p.schema_version)),
             ("partial", "yes" if p.partial else "no")]
    facts += [("SYNTHETIC", "yes: generated hp=12 noise, not results")] if p.synthetic else []
    sources = pd.DataFrame(sorted(p.sources.items()), columns=["source file", "sha256"])
    return facts, sources


def _params_frame(results: SweepResults) -> pd.DataFrame:
    rows = []
    for label, info in results.algorithm_params().items():
        params = info["params"]
        text = ", ".join(f"{k}={json.dumps(v)}" for k, v in params.items()) or "(none)"
        name = info["name"]
        library = info.get("library") or {}
        if library:  # an adapter: the optimizer library's version, as recorded by each run
            name += " (" + ", ".join(f"{k} {v}" for k, v in library.items()) + ")"
        rows.append({"algorithm": label, "registry name": name, "parameters": text})
    frame = pd.DataFrame(rows, columns=["algorithm", "registry name", "parameters"])
    order = {a: i for i, a in enumerate(algorithm_order(frame["algorithm"]))}
    return frame.sort_values("algorithm", key=lambda s: s.map(order)).reset_index(drop=True)


def _refs_display(refs: Mapping[str, References]) -> pd.DataFrame:
    return pd.DataFrame([{
        "dataset": panel_title(d),
        "best-by-validation feasible arch": arch_label(r.best_by_valid_index),
        "its validation acc (%)": f"{r.best_by_valid_valid_acc:.2f}",
        "its test acc (%)": f"{r.best_by_valid_test_acc:.2f}",
        "best feasible test acc (%)": f"{r.best_test_acc:.2f}",
        "best feasible test arch": arch_label(r.best_test_index),
    } for d, r in refs.items()])


def _kv_markdown(pairs: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"- **{k}**: {v}" for k, v in pairs) + "\n"


def _kv_html(pairs: Sequence[tuple[str, str]]) -> str:
    return "<table class='kv'>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in pairs
    ) + "</table>"


def _claims(a: Analysis) -> list[str]:
    """Every comparison at the budget in words, each with its test (corrected p, A12)."""
    sig = a.significance
    if sig.empty:
        return ["only one algorithm: nothing to compare"]
    at_budget = sig[_at_budget(a, sig)]
    return [f"{panel_title(str(row['dataset']))}: {claim(row)}"
            for row in at_budget.to_dict("records")]


def _rank_lines(a: Analysis) -> list[tuple[str, str]]:
    t = a.rank_test
    points = ", ".join(map(str, a.stat_checkpoints)) if a.time_axis is None else ", ".join(
        f"{100 * a.time_axis.fraction(c):g}%" for c in a.stat_checkpoints) + " of the time budget"
    blocks = (f"{t.n_blocks} (dataset, checkpoint, run index) blocks; checkpoints {points}; "
              "the checkpoints of one run are correlated, so the p-values are somewhat "
              "optimistic (the per-checkpoint pairwise tests are not)")
    if not t.tested:
        return [("blocks", blocks), ("Friedman / Nemenyi", t.note)]
    apart = [f"{x} vs {y}" for i, x in enumerate(t.nemenyi.index)
             for y in t.nemenyi.columns[i + 1:] if t.nemenyi.loc[x, y] < t.alpha]
    return [("blocks", blocks),
            ("Friedman test", f"chi-square = {t.statistic:.2f}, p {p_text(t.p_value)} "
                              f"({len(t.mean_ranks)} algorithms)"),
            ("Nemenyi critical difference", f"{t.critical_difference:.3f} mean-rank units at "
                                            f"alpha = {t.alpha:g}"),
            ("pairs Nemenyi separates", ", ".join(apart) or "none")]


def _anytime_lines(a: Analysis) -> list[tuple[str, str]]:
    spans = ", ".join(f"{panel_title(d)} 0..{v:.2f}" for d, v in a.spans.items())
    return [("targets", f"{N_TARGETS} regret levels below the best-by-validation feasible "
                        "architecture's test accuracy, evenly spaced down to the median test "
                        f"accuracy of the feasible architectures (points: {spans})"),
            ("reached", "the first query at which the incumbent's test accuracy is at least "
                        "the target"),
            ("AOCC", "area under the ECDF over log queries, normalised to [0, 1]"),
            ("ERT", "COCO's expected running time: queries spent by all runs until they "
                    "reached the target or stopped, divided by the successful runs ('inf': "
                    "none reached it); full grid in tables/anytime.csv")] + (
        [] if a.time_axis is None else [
            ("axis", "queries, not seconds: under the time budget each run makes its own "
                     "number of queries; hitting times, the ECDF, AOCC and ERT count them (a "
                     "run that stopped spent its own queries), while the curves, checkpoints, "
                     "tests, ranks and the criteria's efficiency use simulated seconds")])


def _final_arch_display(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    order = {d: i for i, d in enumerate(dataset_order(frame["dataset"].unique()))}
    alg = {x: i for i, x in enumerate(algorithm_order(frame["algorithm"].unique()))}
    frame = frame.assign(_k=frame["dataset"].map(order) * 10_000 + frame["algorithm"].map(alg))
    frame = frame.sort_values("_k", kind="stable")
    return pd.DataFrame({
        "dataset": frame["dataset"].map(panel_title), "algorithm": frame["algorithm"],
        "most frequent final arch": [f"{i} ({s})" for i, s in
                                     zip(frame["arch_index"], frame["arch"], strict=True)],
        "runs ending there": [f"{r} of {n} ({100 * x:.0f}%)" for r, n, x in
                              zip(frame["runs_there"], frame["n_runs"], frame["share"],
                                  strict=True)],
        "distinct final archs": frame["distinct_finals"],
        "its test acc (%)": [f"{v:.2f}" for v in frame["test_acc"]],
    }).reset_index(drop=True)


def _sections(a: Analysis, table: BenchmarkTable, *, full: bool = True,
              stamp: Mapping[str, str] | None = None) -> list[tuple[str, str, Any]]:
    """(title, kind, content) in report order; kind is 'kv', 'table', 'figures' or 'text'.

    ``full`` (the HTML page) shows the pairwise tests at every checkpoint; the Markdown
    summary shows those at the budget and links the full table. ``stamp`` adds a "Produced by"
    section (HTML only: it changes with every run, the Markdown must not).
    """
    facts, sources = _provenance(table)
    failed = a.results.failed
    sig = a.significance
    shown = sig if full else sig[_at_budget(a, sig)]
    sig_title = ("Pairwise tests (two-sided Mann-Whitney U, Holm-corrected within each dataset "
                 f"and checkpoint, alpha = {ALPHA:g}; Vargha-Delaney A12; mean with bootstrap "
                 "95% CI)" + ("" if full else " at the budget; every checkpoint in "
                              "tables/significance.md"))
    sections: list[tuple[str, str, Any]] = []
    if stamp:
        sections.append(("Produced by (provenance)", "kv",
                         [(str(k), str(v)) for k, v in stamp.items()]))
    sections += [
        ("Protocol", "kv", _protocol_lines(a)),
        ("Data provenance", "kv", facts),
        ("Source files", "table", sources),
        ("Figures", "figures", list(MAIN_FIGURES)),
        ("What the numbers say (at the budget, each with its test)", "text", _claims(a)),
        ("Reference lines", "table", _refs_display(a.refs)),
        ("Quality, stability, efficiency (final = at the "
         + ("budget)" if a.time_axis is None else "time budget; efficiency in simulated "
                                                 "seconds)"), "table",
         criteria_display(a.criteria)),
        ("Test accuracy at checkpoints (mean ± standard error)", "table",
         checkpoint_display(a.checkpoints) if len(a.checkpoints) else pd.DataFrame()),
        (sig_title, "table", significance_display(shown)),
        ("Rankings (Friedman and Nemenyi over datasets and checkpoints)", "kv", _rank_lines(a)),
        ("Mean ranks (1 = best)", "table", rank_table(a.rank_test)),
        ("Rank figures", "figures", ["critical_difference", "ranks"]),
        ("Anytime performance (targets, ECDF, AOCC, ERT)", "kv", _anytime_lines(a)),
        ("Area under the ECDF (AOCC)", "table", aocc_display(a.aocc)),
        ("Success rate / ERT in queries (target accuracy) at five points of the target grid",
         "table", anytime_display(a.anytime)),
        ("Anytime figure", "figures", ["ecdf"]),
        ("Most frequent final architecture", "table", _final_arch_display(a.final_archs)),
        ("Algorithms and parameters", "table", _params_frame(a.results)),
    ]
    if len(failed):
        sections.append(("Failed runs (tracebacks in their sidecars)", "table",
                         failed[["run_id", "status"]]))
    return sections


TIME_FIGURES: dict[str, str] = {
    "curves": "Incumbent test accuracy over simulated training time (mean, 25-75% band over "
              "runs)",
    "ranks": "Mean rank over runs on the simulated clock (1 = best), one panel per dataset",
}


def _title(stem: str, timed: bool = False) -> str:
    """A figure's title; on the time axis the curves and ranks say so."""
    return TIME_FIGURES.get(stem, FIGURES[stem]) if timed else FIGURES[stem]


def _caption(stem: str, timed: bool = False) -> str:
    """A figure's caption; the curves name their legend, which sits outside the panels."""
    return _title(stem, timed) + (f"; legend: {LEGEND_TITLE}" if stem == "curves" else "")


def _render_sections(sections: Sequence[tuple[str, str, Any]], heading: Callable[[str], str],
                     kv: Callable[[Sequence[tuple[str, str]]], str],
                     frame: Callable[[pd.DataFrame], str], empty: str,
                     figure: Callable[[str], str],
                     text: Callable[[Sequence[str]], str]) -> list[str]:
    """The report's sections in one format, so Markdown and HTML cannot drift apart."""
    out = []
    for title, kind, content in sections:
        out.append(heading(title))
        if kind == "kv":
            out.append(kv(content))
        elif kind == "table":
            out.append(frame(content) if len(content) else empty)
        elif kind == "figures":
            out.extend(figure(stem) for stem in content)
        elif kind == "text":
            out.append(text(content))
    return out


def render_markdown(a: Analysis, table: BenchmarkTable) -> str:
    """The Markdown summary (figures linked as ``figures/*.png``; no provenance stamp)."""
    timed = a.time_axis is not None
    out = ["# nas-harness results\n",
           "Tables (CSV, full precision) in `tables/`, figures (PNG, PDF) in `figures/`, the "
           "whole report as one page in `report.html`.\n"]
    out += _render_sections(
        _sections(a, table, full=False), lambda title: f"## {title}\n", _kv_markdown,
        markdown_table, "(none)\n",
        lambda stem: (f"![{_title(stem, timed)}](figures/{stem}.png)\n\n"
                      f"*{_caption(stem, timed)}.*\n"),
        lambda lines: "".join(f"- {line}\n" for line in lines))
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1400px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
thead th{background:#f3f3f3}table.kv th{background:#f8f8f8;white-space:nowrap}
figure{margin:1em 0}img{max-width:100%;height:auto}figcaption{font-size:.85em;color:#555}
"""


def render_html(a: Analysis, table: BenchmarkTable, figure_dir: Path,
                stamp: Mapping[str, str] | None = None) -> str:
    """The self-contained HTML page: every figure embedded as a base64 PNG data URI."""
    timed = a.time_axis is not None

    def figure(stem: str) -> str:
        data = base64.b64encode((figure_dir / f"{stem}.png").read_bytes()).decode()
        return (f"<figure><img alt='{html.escape(stem)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(_caption(stem, timed))}</figcaption></figure>")

    body = ["<h1>nas-harness results</h1>"]
    body += _render_sections(
        _sections(a, table, full=True, stamp=stamp),
        lambda title: f"<h2>{html.escape(title)}</h2>", _kv_html, html_table,
        "<p>(none)</p>", figure,
        lambda lines: "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<title>nas-harness results</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_figures(a: Analysis, table: BenchmarkTable, fig_dir: Path) -> list[Path]:
    """Draw the six figures of an analysis into ``fig_dir`` (PNG and PDF each)."""
    figures: list[Path] = []
    fig, _ = plot_curves(a.summary, a.refs)
    figures += _save(fig, fig_dir / "curves")
    fig, _ = plot_final_distributions(a.final, a.refs)
    figures += _save(fig, fig_dir / "final_distribution")
    fig, _ = plot_flops_scatter(a.final, {d: table[d] for d in a.refs}, a.refs)
    figures += _save(fig, fig_dir / "flops_scatter")
    figures += _save(plot_critical_difference(a.rank_test), fig_dir / "critical_difference")
    figures += _save(plot_ranks(a.ranks), fig_dir / "ranks")
    figures += _save(plot_ecdf(a.ecdf, a.aocc, a.spans), fig_dir / "ecdf")
    return figures


def write_report(a: Analysis, table: BenchmarkTable, out_dir: Path | str, *,
                 stamp: Mapping[str, str] | None = None) -> ReportPaths:
    """Write figures, tables, ``summary.md`` and ``report.html`` of an analysis."""
    out = Path(out_dir)
    fig_dir, table_dir = out / "figures", out / "tables"
    figures = write_figures(a, table, fig_dir)
    paths = write_tables(a.criteria, a.checkpoints, table_dir)
    summary_csv = table_dir / "summary.csv"
    order = SUMMARY_ORDER if a.time_axis is None else TIME_SUMMARY_ORDER
    rest = [c for c in a.summary.columns if c not in order]
    a.summary[[*order, *rest]].to_csv(summary_csv, index=False, float_format="%.6g")
    refs_csv = table_dir / "references.csv"
    references_frame(a.refs).to_csv(refs_csv, index=False, float_format="%.6g")
    stats_tables: list[Path] = []
    stats_tables += write_frame(a.significance, table_dir / "significance.csv",
                                table_dir / "significance.md",
                                significance_display(a.significance))
    stats_tables += write_frame(rank_table(a.rank_test), table_dir / "ranks.csv",
                                table_dir / "ranks.md")
    stats_tables += write_frame(a.anytime, table_dir / "anytime.csv")
    stats_tables += write_frame(a.aocc, table_dir / "aocc.csv", table_dir / "aocc.md",
                                aocc_display(a.aocc))
    stats_tables += write_frame(a.final_archs, table_dir / "final_architectures.csv",
                                table_dir / "final_architectures.md",
                                _final_arch_display(a.final_archs))

    summary_md = out / "summary.md"
    summary_md.write_text(render_markdown(a, table), encoding="utf-8")
    report = out / "report.html"
    report.write_text(render_html(a, table, fig_dir, stamp), encoding="utf-8")
    tables = (summary_csv, refs_csv, paths.criteria_csv, paths.criteria_md,
              paths.checkpoints_csv, paths.checkpoints_md, *stats_tables)
    return ReportPaths(out, report, summary_md, summary_csv, tuple(figures), tables)


def build_report(runs_dir: Path | str, out_dir: Path | str, *,
                 table: BenchmarkTable | None = None,
                 checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS,
                 time_checkpoints: Sequence[float] = TIME_CHECKPOINTS,
                 algorithms: Sequence[str] | None = None,
                 datasets: Sequence[str] | None = None, runs: int | None = None,
                 stamp: Mapping[str, str] | None = None) -> ReportPaths:
    """Load the runs under ``runs_dir`` and the benchmark table; write the report to ``out_dir``.

    Args:
        runs_dir: a sweep's output directory.
        out_dir: where the report goes (created).
        table: the benchmark table (default: ``nas_harness.benchmarks.data.store.load_table()``);
        it must be the
            table the runs were made with (checked by checksum).
        checkpoints: query numbers of the checkpoint table (the statistics use those within
            the budget plus the budget).
        time_checkpoints: for runs under a budget in simulated seconds (which are reported
            on the simulated clock, ``checkpoints`` unused), the checkpoints as fractions of
            each dataset's budget (the budget itself always included).
        algorithms: only these algorithm labels (an experiment's; default: all).
        datasets: only these datasets (default: all).
        runs: only run indices ``0..runs-1`` (default: all).
        stamp: provenance shown in a "Produced by" section of ``report.html`` only (e.g.
            package version, git commit, date, command line, experiment file), in the given
            order; ``summary.md`` never carries it, so it stays deterministic.

    Returns:
        The paths written; ``.report`` is the HTML page.
    """
    if table is None:
        from nas_harness.benchmarks.data.store import load_table

        table = load_table()
    results = load_results(runs_dir, table_checksum=table.provenance.checksum,
                           algorithms=algorithms, datasets=datasets, runs=runs,
                           columns=REPORT_COLUMNS)
    return write_report(analyse(results, table, checkpoints, time_checkpoints), table, out_dir,
                        stamp=stamp)
