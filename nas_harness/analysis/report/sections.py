"""The report's sections in order, as typed records both pages (Markdown, HTML) render.

A :class:`Section` holds its title, its kind and its content: (label, text) pairs, a display
table (cells already text), figure stems, or sentences. One list feeds both pages, so they
cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

import pandas as pd

from nas_harness.analysis.metrics.architectures import arch_label
from nas_harness.analysis.metrics.ranks import rank_table
from nas_harness.analysis.metrics.references import References
from nas_harness.analysis.metrics.significance import ALPHA
from nas_harness.analysis.plots.curves import LEGEND_TITLE, dataset_order, panel_title
from nas_harness.analysis.plots.style import algorithm_order
from nas_harness.analysis.report.analysis import Analysis
from nas_harness.analysis.report.text import (
    anytime_lines,
    at_budget,
    claims,
    findings,
    protocol_lines,
    rank_lines,
)
from nas_harness.analysis.runs import SweepResults
from nas_harness.analysis.tables import (
    anytime_display,
    aocc_display,
    checkpoint_display,
    criteria_display,
    significance_display,
)
from nas_harness.benchmarks.table import BenchmarkTable

Kind = Literal["kv", "table", "figures", "text"]
Content: TypeAlias = Sequence[tuple[str, str]] | Sequence[str] | pd.DataFrame

FIGURES: dict[str, str] = {
    "curves": "Incumbent test accuracy over queries (mean, 25-75% band over runs)",
    "final_distribution": "Final test accuracy per run",
    "flops_scatter": "FLOPs and test accuracy of the architectures found, over the whole space",
    "critical_difference": "Critical-difference diagram: mean rank over (dataset, checkpoint, "
                           "run index) blocks, Nemenyi post-hoc test",
    "ranks": "Mean rank over runs at every query (1 = best), one panel per dataset",
    "ecdf": "Anytime ECDF: fraction of (run, target) pairs reached against queries, with AOCC",
}
TIME_FIGURES: dict[str, str] = {
    "curves": "Incumbent test accuracy over simulated training time (mean, 25-75% band over "
              "runs)",
    "ranks": "Mean rank over runs on the simulated clock (1 = best), one panel per dataset",
}
MAIN_FIGURES: tuple[str, ...] = ("curves", "final_distribution", "flops_scatter")


@dataclass(frozen=True)
class Section:
    """One section of the report.

    Attributes:
        title: its heading.
        kind: ``kv`` (content: (label, text) pairs), ``table`` (a display frame), ``figures``
            (figure stems) or ``text`` (sentences).
        content: what the kind says.
        key: its anchor in the HTML page (unique within a report).
        doc: the documentation page that explains it (see :data:`.docs.DOCS_PAGES`).
        csv: the table file that holds the whole table at full precision: a name in
            ``tables/`` beside the page, or a path relative to the page when it has a ``/``.
    """

    title: str
    kind: Kind
    content: Content
    key: str = ""
    doc: str = "results.md"
    csv: str | None = None


def figure_title(stem: str, timed: bool = False) -> str:
    """A figure's title; on the time axis the curves and ranks say so."""
    return TIME_FIGURES.get(stem, FIGURES[stem]) if timed else FIGURES[stem]


def figure_caption(stem: str, timed: bool = False) -> str:
    """A figure's caption; the curves name their legend, which sits outside the panels."""
    return figure_title(stem, timed) + (f"; legend: {LEGEND_TITLE}" if stem == "curves" else "")


def provenance(table: BenchmarkTable) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    """The benchmark table's facts (builder, checksum, ...) and its source files' hashes."""
    p = table.provenance
    facts = [("builder", p.builder), ("table checksum", p.checksum),
             ("schema version", str(p.schema_version)),
             ("partial", "yes" if p.partial else "no")]
    facts += [("SYNTHETIC", "yes: generated hp=12 noise, not results")] if p.synthetic else []
    sources = pd.DataFrame(sorted(p.sources.items()), columns=["source file", "sha256"])
    return facts, sources


def params_frame(results: SweepResults) -> pd.DataFrame:
    """Each algorithm label's registry name (an adapter's library version) and parameters."""
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


def refs_display(refs: Mapping[str, References]) -> pd.DataFrame:
    """The reference lines, one row per dataset, as text."""
    return pd.DataFrame([{
        "dataset": panel_title(d),
        "best-by-validation feasible arch": arch_label(r.best_by_valid_index),
        "its validation acc (%)": f"{r.best_by_valid_valid_acc:.2f}",
        "its test acc (%)": f"{r.best_by_valid_test_acc:.2f}",
        "best feasible test acc (%)": f"{r.best_test_acc:.2f}",
        "best feasible test arch": arch_label(r.best_test_index),
    } for d, r in refs.items()])


def final_arch_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The most frequent final architecture per (dataset, algorithm), as text."""
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


def _sections(a: Analysis, table: BenchmarkTable, *, full: bool) -> dict[str, Section]:
    """Every section of the report, by key, in the order of ``summary.md``.

    ``full`` shows the pairwise tests at every checkpoint (the HTML page), else those at the
    budget with a link to the full table.
    """
    facts, sources = provenance(table)
    sig = a.stats.significance
    shown = sig if full else sig[at_budget(a, sig)]
    sig_title = ("Pairwise tests (two-sided Mann-Whitney U, Holm-corrected within each dataset "
                 f"and checkpoint, alpha = {ALPHA:g}; Vargha-Delaney A12; mean with bootstrap "
                 "95% CI)" + ("" if full else " at the budget; every checkpoint in "
                              "tables/significance.md"))
    final_title = ("budget)" if a.time_axis is None
                   else "time budget; efficiency in simulated seconds)")
    parts = [
        Section("Protocol", "kv", protocol_lines(a), "protocol", "protocol.md"),
        Section("Data provenance", "kv", facts, "data-provenance", "data.md"),
        Section("Source files", "table", sources, "source-files", "data.md"),
        Section("Figures", "figures", list(MAIN_FIGURES), "figures"),
        Section("What the numbers say (at the budget, each with its test)", "text", claims(a),
                "claims", "statistics.md"),
        Section("Reference lines", "table", refs_display(a.refs), "reference-lines",
                csv="references.csv"),
        Section("Quality, stability, efficiency (final = at the " + final_title, "table",
                criteria_display(a.criteria), "criteria", csv="criteria.csv"),
        Section("Test accuracy at checkpoints (mean ± standard error)", "table",
                checkpoint_display(a.axis.checkpoints) if len(a.axis.checkpoints)
                else pd.DataFrame(),
                "checkpoints", csv="checkpoints.csv"),
        Section(sig_title, "table", significance_display(shown), "pairwise-tests",
                "statistics.md", "significance.csv"),
        Section("Rankings (Friedman and Nemenyi over datasets and checkpoints)", "kv",
                rank_lines(a), "rankings", "statistics.md"),
        Section("Mean ranks (1 = best)", "table", rank_table(a.stats.rank_test), "mean-ranks",
                "statistics.md", "ranks.csv"),
        Section("Rank figures", "figures", ["critical_difference", "ranks"], "rank-figures",
                "statistics.md"),
        Section("Anytime performance (targets, ECDF, AOCC, ERT)", "kv", anytime_lines(a),
                "anytime", "statistics.md"),
        Section("Area under the ECDF (AOCC)", "table", aocc_display(a.stats.aocc), "aocc",
                "statistics.md", "aocc.csv"),
        Section("Success rate / ERT in queries (target accuracy) at five points of the target "
                "grid", "table", anytime_display(a.stats.anytime), "ert", "statistics.md",
                "anytime.csv"),
        Section("Anytime figure", "figures", ["ecdf"], "anytime-figure", "statistics.md"),
        Section("Most frequent final architecture", "table", final_arch_display(a.final_archs),
                "final-architectures", csv="final_architectures.csv"),
        Section("Algorithms and parameters", "table", params_frame(a.results), "algorithms",
                "algorithms/index.md"),
    ]
    failed = a.results.failed
    if len(failed):
        parts.append(Section("Failed runs (tracebacks in their sidecars)", "table",
                             failed[["run_id", "status"]], "failed-runs", "guarantees.md"))
    return {part.key: part for part in parts}


def markdown_sections(a: Analysis, table: BenchmarkTable) -> list[Section]:
    """The sections of ``summary.md``, in order: the pairwise tests at the budget only."""
    return list(_sections(a, table, full=False).values())


HTML_ORDER: tuple[str, ...] = (
    "paper-figure", "findings", "protocol", "figures", "criteria", "checkpoints",
    "reference-lines", "pairwise-tests", "rankings", "mean-ranks", "rank-figures", "anytime",
    "aocc", "ert", "anytime-figure", "final-architectures", "fronts-hv", "fronts-figures",
    "fronts-budgets", "proxies-correlations", "proxies-figures", "proxies-guided", "algorithms",
    "failed-runs", "data-provenance", "source-files", "provenance",
)
"""The order of the HTML page: the paper figure and the findings first, provenance last."""


def html_sections(a: Analysis, table: BenchmarkTable,
                  stamp: Mapping[str, str] | None = None,
                  extra: Mapping[str, Section] | None = None) -> list[Section]:
    """The sections of ``report.html``, in :data:`HTML_ORDER`.

    The paper figure comes first and the findings are a short table (a row per pair, a
    column per dataset, each cell with its test); the pairwise tests are shown at every
    checkpoint. ``stamp`` adds a "Produced by" section: it changes with every run, so only
    the HTML page carries it. ``extra`` are the other tracks' sections (Pareto fronts,
    training-free proxies; :mod:`.tracks`), placed by their keys in :data:`HTML_ORDER`.
    """
    parts = _sections(a, table, full=True) | dict(extra or {})
    del parts["claims"]
    timed = a.time_axis is not None
    parts["paper-figure"] = Section("The paper figure: " + figure_title("curves", timed),
                                    "figures", ["curves"], "paper-figure")
    parts["figures"] = Section("Final accuracy and the architectures found", "figures",
                               [stem for stem in MAIN_FIGURES if stem != "curves"], "figures")
    parts["findings"] = Section(
        "Findings at the budget, each with its test (two-sided Mann-Whitney U, Holm-corrected "
        f"within each dataset, alpha = {ALPHA:g}; A12 = the chance the better one wins)",
        "table", findings(a), "findings", "statistics.md", "significance.csv")
    if stamp:
        parts["provenance"] = Section("Produced by (provenance)", "kv",
                                      [(str(k), str(v)) for k, v in stamp.items()],
                                      "provenance", "guarantees.md")
    return [parts[key] for key in HTML_ORDER if key in parts]
