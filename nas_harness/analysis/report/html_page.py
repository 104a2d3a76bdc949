"""The self-contained HTML page of a report: every figure embedded as a base64 PNG.

The page opens on the paper figure, then a contents list and the findings (a short table,
each cell with its test); every heading links to the documentation page that explains the
section and, for a table, to its CSV file beside the page. A table longer than
:data:`COLLAPSE_ROWS` rows (the pairwise tests at every checkpoint) is folded in a
``<details>`` element, open on a click.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from nas_harness.analysis.report.analysis import Analysis
from nas_harness.analysis.report.docs import doc_href
from nas_harness.analysis.report.figures import FIGURE_DPI
from nas_harness.analysis.report.render import Format, render_section
from nas_harness.analysis.report.sections import Section, figure_caption, html_sections
from nas_harness.analysis.report.tracks import track_figure_title, track_sections
from nas_harness.analysis.tables import html_table
from nas_harness.benchmarks.table import BenchmarkTable

COLLAPSE_ROWS = 30
"""Tables with more rows than this are folded (their CSV is linked beside the heading)."""
CSS_DPI = 96
"""CSS pixels per inch."""
CONTENTS_AFTER = "paper-figure"
"""The contents list follows this section (the paper figure leads the page)."""

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1400px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
h2 .links{font-size:.7em;font-weight:normal;color:#555;margin-left:.8em}
nav ol{columns:2;font-size:.9em;margin:.3em 0}nav h2{margin-top:.8em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
thead th{background:#f3f3f3}table.kv th{background:#f8f8f8;white-space:nowrap}
details summary{cursor:pointer;color:#0645ad;margin:.4em 0}
figure{margin:1em 0}img{max-width:100%;height:auto}figcaption{font-size:.85em;color:#555}
"""


def css_width(png: bytes) -> int:
    """The width in CSS pixels (96 per inch) of a PNG drawn at :data:`.write.FIGURE_DPI`.

    Every figure is shown at its printed size, so their lettering matches whatever their
    width; a figure wider than the page shrinks to fit (``max-width: 100%``).
    """
    if png[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    return round(int.from_bytes(png[16:20], "big") * CSS_DPI / FIGURE_DPI)


def _kv_html(pairs: Sequence[tuple[str, str]]) -> str:
    return "<table class='kv'>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in pairs
    ) + "</table>"


def _links(section: Section, docs: str | None) -> str:
    """The heading's links: the documentation page and, for a table, its CSV file."""
    href = doc_href(section.doc, docs)
    name = html.escape(section.doc)
    parts = [f"<a class='doc' href='{html.escape(href)}'>explained in {name}</a>" if href
             else f"<span class='doc'>explained in the documentation page {name}</span>"]
    if section.csv:
        csv = html.escape(section.csv if "/" in section.csv else f"tables/{section.csv}")
        parts.append(f"<a class='csv' href='{csv}'>{csv}</a>")
    return "<span class='links'>" + " · ".join(parts) + "</span>"


def _table(section: Section, frame: pd.DataFrame) -> str:
    """A table, folded in ``<details>`` when longer than :data:`COLLAPSE_ROWS` rows."""
    if len(frame) <= COLLAPSE_ROWS:
        return html_table(frame)
    return (f"<details class='long'><summary>Show all {len(frame)} rows</summary>"
            f"{html_table(frame)}</details>")


def _contents(parts: Sequence[Section]) -> str:
    """The contents list: every section's title, linked to its anchor."""
    items = "".join(f"<li><a href='#{html.escape(p.key)}'>{html.escape(p.title)}</a></li>"
                    for p in parts)
    return f"<nav id='contents'><h2>Contents</h2><ol>{items}</ol></nav>"


def render_html(a: Analysis, table: BenchmarkTable, figure_dir: Path,
                stamp: Mapping[str, str] | None = None, docs: str | None = None) -> str:
    """The self-contained HTML page: every figure embedded as a base64 PNG data URI.

    ``docs`` is the relative path from the page to the repository's ``docs/`` folder
    (:func:`.docs.docs_prefix`); without it each section names its documentation page.
    The other tracks' results beside the page (``fronts/``, ``proxies/``; :mod:`.tracks`)
    add their sections, their figures embedded like the others.
    """
    timed = a.time_axis is not None
    out_dir = figure_dir.parent

    def figure(stem: str) -> str:
        track = track_figure_title(stem)
        path = out_dir / f"{stem}.png" if track else figure_dir / f"{stem}.png"
        png = path.read_bytes()
        data = base64.b64encode(png).decode()
        caption = track or figure_caption(stem, timed)
        return (f"<figure><img alt='{html.escape(stem)}' width='{css_width(png)}' "
                f"src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(caption)}</figcaption></figure>")

    fmt = Format(
        heading=lambda s: (f"<h2 id='{html.escape(s.key)}'>{html.escape(s.title)}"
                           f"{_links(s, docs)}</h2>"),
        kv=_kv_html, frame=_table, empty="<p>(none)</p>", figure=figure,
        text=lambda lines: "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines)
        + "</ul>")
    parts = html_sections(a, table, stamp, track_sections(out_dir))
    body = ["<h1>nas-harness results</h1>"]
    for part in parts:
        body += render_section(part, fmt)
        if part.key == CONTENTS_AFTER:
            body.append(_contents(parts))
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<title>nas-harness results</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
