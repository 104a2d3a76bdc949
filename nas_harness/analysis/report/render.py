"""Lay the report's sections out as a page: one walker, a format record per page kind.

:func:`render` walks the sections once; a :class:`Format` says how a heading, (label, text)
pairs, a table, a figure and sentences look in Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import pandas as pd

from nas_harness.analysis.report.analysis import Analysis
from nas_harness.analysis.report.sections import (
    Section,
    figure_caption,
    figure_title,
    markdown_sections,
)
from nas_harness.analysis.tables import markdown_table
from nas_harness.benchmarks.table import BenchmarkTable


@dataclass(frozen=True)
class Format:
    """How each kind of content is written in one page format."""

    heading: Callable[[Section], str]
    kv: Callable[[Sequence[tuple[str, str]]], str]
    frame: Callable[[Section, pd.DataFrame], str]
    empty: str
    figure: Callable[[str], str]
    text: Callable[[Sequence[str]], str]


def render_section(section: Section, fmt: Format) -> list[str]:
    """One section in ``fmt``: its heading, then its content."""
    out = [fmt.heading(section)]
    content = section.content
    if section.kind == "kv":
        out.append(fmt.kv(cast(Sequence[tuple[str, str]], content)))
    elif section.kind == "table":
        frame = cast(pd.DataFrame, content)
        out.append(fmt.frame(section, frame) if len(frame) else fmt.empty)
    elif section.kind == "figures":
        out.extend(fmt.figure(stem) for stem in cast(Sequence[str], content))
    else:
        out.append(fmt.text(cast(Sequence[str], content)))
    return out


def render(parts: Sequence[Section], fmt: Format) -> list[str]:
    """Every section in ``fmt``, in order."""
    return [line for section in parts for line in render_section(section, fmt)]


def _kv_markdown(pairs: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"- **{k}**: {v}" for k, v in pairs) + "\n"


def render_markdown(a: Analysis, table: BenchmarkTable) -> str:
    """The Markdown summary (figures linked as ``figures/*.png``; no provenance stamp)."""
    timed = a.time_axis is not None
    fmt = Format(
        heading=lambda section: f"## {section.title}\n", kv=_kv_markdown,
        frame=lambda _, frame: markdown_table(frame),
        empty="(none)\n",
        figure=lambda stem: (f"![{figure_title(stem, timed)}](figures/{stem}.png)\n\n"
                             f"*{figure_caption(stem, timed)}.*\n"),
        text=lambda lines: "".join(f"- {line}\n" for line in lines))
    out = ["# nas-harness results\n",
           "Tables (CSV, full precision) in `tables/`, figures (PNG, PDF) in `figures/`, the "
           "whole report as one page in `report.html`.\n"]
    out += render(markdown_sections(a, table), fmt)
    return "\n".join(out)
