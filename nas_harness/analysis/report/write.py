"""Write an analysis to disk: the figures, the tables, ``summary.md`` and ``report.html``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from nas_harness.analysis.metrics.aggregate import TIME_COLUMN
from nas_harness.analysis.metrics.ranks import rank_table
from nas_harness.analysis.metrics.references import References
from nas_harness.analysis.metrics.time_axis import TIME_CHECKPOINTS
from nas_harness.analysis.report.analysis import Analysis, analyse
from nas_harness.analysis.report.docs import docs_prefix
from nas_harness.analysis.report.figures import write_figures
from nas_harness.analysis.report.html_page import render_html
from nas_harness.analysis.report.render import render_markdown
from nas_harness.analysis.report.sections import final_arch_display
from nas_harness.analysis.runs import REPORT_COLUMNS, load_results
from nas_harness.analysis.tables import (
    DEFAULT_CHECKPOINTS,
    aocc_display,
    significance_display,
    write_frame,
    write_tables,
)
from nas_harness.benchmarks.space import SSS
from nas_harness.benchmarks.table import BenchmarkTable

SUMMARY_ORDER: tuple[str, ...] = ("dataset", "algorithm", "query")
TIME_SUMMARY_ORDER: tuple[str, ...] = ("dataset", "algorithm", TIME_COLUMN)


@dataclass(frozen=True)
class ReportPaths:
    """The files :func:`build_report` wrote; ``report`` is the HTML page (what to open)."""

    out_dir: Path
    report: Path
    summary: Path
    summary_table: Path
    figures: tuple[Path, ...]
    tables: tuple[Path, ...]


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


def write_result_tables(a: Analysis, table_dir: Path) -> tuple[Path, ...]:
    """Every table of an analysis as CSV (full precision), most also as Markdown."""
    paths = write_tables(a.criteria, a.axis.checkpoints, table_dir)
    summary_csv = table_dir / "summary.csv"
    order = SUMMARY_ORDER if a.time_axis is None else TIME_SUMMARY_ORDER
    rest = [c for c in a.axis.summary.columns if c not in order]
    a.axis.summary[[*order, *rest]].to_csv(summary_csv, index=False, float_format="%.6g")
    refs_csv = table_dir / "references.csv"
    references_frame(a.refs).to_csv(refs_csv, index=False, float_format="%.6g")
    stats: list[Path] = []
    stats += write_frame(a.stats.significance, table_dir / "significance.csv",
                         table_dir / "significance.md", significance_display(a.stats.significance))
    stats += write_frame(rank_table(a.stats.rank_test), table_dir / "ranks.csv",
                         table_dir / "ranks.md")
    stats += write_frame(a.stats.anytime, table_dir / "anytime.csv")
    stats += write_frame(a.stats.aocc, table_dir / "aocc.csv", table_dir / "aocc.md",
                         aocc_display(a.stats.aocc))
    stats += write_frame(a.final_archs, table_dir / "final_architectures.csv",
                         table_dir / "final_architectures.md",
                         final_arch_display(a.final_archs))
    return (summary_csv, refs_csv, paths.criteria_csv, paths.criteria_md,
            paths.checkpoints_csv, paths.checkpoints_md, *stats)


def write_report(a: Analysis, table: BenchmarkTable, out_dir: Path | str, *,
                 stamp: Mapping[str, str] | None = None) -> ReportPaths:
    """Write figures, tables, ``summary.md`` and ``report.html`` of an analysis."""
    out = Path(out_dir)
    fig_dir = out / "figures"
    figures = write_figures(a, table, fig_dir)
    tables = write_result_tables(a, out / "tables")
    summary_md = out / "summary.md"
    summary_md.write_text(render_markdown(a, table), encoding="utf-8")
    report = out / "report.html"
    report.write_text(render_html(a, table, fig_dir, stamp, docs_prefix(out)), encoding="utf-8")
    return ReportPaths(out, report, summary_md, tables[0], tuple(figures), tables)


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
            it must be the table the runs were made with (checked by checksum).
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
