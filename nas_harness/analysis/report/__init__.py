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

The work is a pipeline of small stages over one typed record, each data in and data out:

- :mod:`.analysis`: the runs -> :class:`Analysis` (the x-axis stage, the statistics stage);
- :mod:`.text` and :mod:`.sections`: an analysis -> the report's sections, typed records;
- :mod:`.render` and :mod:`.html_page`: the sections -> ``summary.md`` and ``report.html``
  (the page links each section to its documentation page, :mod:`.docs`);
- :mod:`.figures` and :mod:`.write`: an analysis -> the figures, tables and pages on disk.

The statistics (see ``nas_harness.analysis.metrics.significance``, ``.ranks``, ``.anytime``)
are computed at the checkpoints within the budget plus the budget itself: pairwise
Mann-Whitney U tests Holm-corrected per (dataset, checkpoint) with A12 and bootstrap CIs, mean
ranks with the Friedman and Nemenyi tests, and target-based ECDF/AOCC/ERT. The summary states
every comparison at the budget with its test.

Runs made under a budget in simulated seconds (``--budget-seconds``, ``--protocol
natsbench``) are reported on the simulated clock (``nas_harness.analysis.metrics.time_axis``):
the curves over seconds, the summary table on each dataset's time grid (``elapsed_s``),
checkpoints, pairwise tests and ranks at fractions of each dataset's budget, final values at
the time budget, the criteria's efficiency in seconds; the anytime targets count queries, as
the report says.

Nothing in the outputs depends on the time or the machine (no timestamps, PDF creation date
cleared, a seeded bootstrap), so a re-run on the same runs gives the same text files. The one
exception is the optional ``stamp`` (package version, commit, date, command line, experiment
file) a caller passes to :func:`build_report`: it is shown in ``report.html`` only, as the
"Produced by (provenance)" section, never in ``summary.md``.
"""

from nas_harness.analysis.report.analysis import (
    Analysis,
    XAxis,
    analyse,
    clock_axis,
    query_axis,
    stat_checkpoints,
)
from nas_harness.analysis.report.figures import FIGURE_DPI, write_figures
from nas_harness.analysis.report.html_page import render_html
from nas_harness.analysis.report.render import render_markdown
from nas_harness.analysis.report.sections import (
    Section,
    html_sections,
    markdown_sections,
    params_frame,
)
from nas_harness.analysis.report.write import (
    ReportPaths,
    build_report,
    references_frame,
    write_report,
)
from nas_harness.analysis.runs import REPORT_COLUMNS, load_results

__all__ = [
    "FIGURE_DPI",
    "REPORT_COLUMNS",
    "Analysis",
    "ReportPaths",
    "Section",
    "XAxis",
    "analyse",
    "build_report",
    "clock_axis",
    "html_sections",
    "load_results",
    "markdown_sections",
    "params_frame",
    "query_axis",
    "references_frame",
    "render_html",
    "render_markdown",
    "stat_checkpoints",
    "write_figures",
    "write_report",
]
