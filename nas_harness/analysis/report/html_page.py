"""The self-contained HTML page of a report: every figure embedded as a base64 PNG."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path

from nas_harness.analysis.report.analysis import Analysis
from nas_harness.analysis.report.render import Format, render
from nas_harness.analysis.report.sections import figure_caption, sections
from nas_harness.analysis.tables import html_table
from nas_harness.benchmarks.table import BenchmarkTable

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1400px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
thead th{background:#f3f3f3}table.kv th{background:#f8f8f8;white-space:nowrap}
figure{margin:1em 0}img{max-width:100%;height:auto}figcaption{font-size:.85em;color:#555}
"""


def _kv_html(pairs: Sequence[tuple[str, str]]) -> str:
    return "<table class='kv'>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in pairs
    ) + "</table>"


def render_html(a: Analysis, table: BenchmarkTable, figure_dir: Path,
                stamp: Mapping[str, str] | None = None) -> str:
    """The self-contained HTML page: every figure embedded as a base64 PNG data URI."""
    timed = a.time_axis is not None

    def figure(stem: str) -> str:
        data = base64.b64encode((figure_dir / f"{stem}.png").read_bytes()).decode()
        return (f"<figure><img alt='{html.escape(stem)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(figure_caption(stem, timed))}</figcaption></figure>")

    fmt = Format(
        heading=lambda title: f"<h2>{html.escape(title)}</h2>", kv=_kv_html, frame=html_table,
        empty="<p>(none)</p>", figure=figure,
        text=lambda lines: "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines)
        + "</ul>")
    body = ["<h1>nas-harness results</h1>"]
    body += render(sections(a, table, full=True, stamp=stamp), fmt)
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<title>nas-harness results</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
