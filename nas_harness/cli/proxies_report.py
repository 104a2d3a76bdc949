"""Build the proxy correlation report: ``correlations.csv``, a Markdown table, one figure each.

Every row names its proxy, dataset, target (``valid``: hp=90 validation accuracy, what the
algorithms see; ``test``: hp=90 test accuracy, what is reported) and subset (``all`` or
``feasible``: FLOPs at most 50% of the largest model's, the harness's default constraint).
``params`` and ``flops`` are always in the table, as the baselines every proxy must beat.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nas_harness.analysis.metrics.proxies import CSV_COLUMNS, N_BOOTSTRAP, correlation_row
from nas_harness.benchmarks.datasets import DATASET_NAMES, get_dataset
from nas_harness.benchmarks.protocol import DEFAULT_FLOPS_FRACTION
from nas_harness.benchmarks.proxies.catalog import proxy_column, proxy_names
from nas_harness.benchmarks.proxies.columns import BASELINES, BUILTIN
from nas_harness.benchmarks.table import BenchmarkTable

BOOTSTRAP_SEED = 20261206
TARGETS = ("valid", "test")
SUBSETS = ("all", "feasible")
FIGURE_DPI = 120


def row_rng(seed: int, *key: str) -> np.random.Generator:
    """The bootstrap generator of one row: from the report seed and the row's own key.

    A row's intervals then do not depend on which other proxies are in the report.
    """
    return np.random.default_rng(np.random.SeedSequence(
        seed, spawn_key=(zlib.crc32("/".join(key).encode("utf-8")),)))


def correlation_table(table: BenchmarkTable, datasets: Sequence[str] = DATASET_NAMES,
                      proxies: Sequence[str] | None = None, *, seed: int = BOOTSTRAP_SEED,
                      n_resamples: int = N_BOOTSTRAP, progress: bool = False,
                      cache: str | Path | None = None, on: str | None = None) -> pd.DataFrame:
    """Every (proxy, dataset, target, subset) row; a named proxy absent somewhere raises.

    ``on``: only the architectures that proxy scores (a subset proxy such as a partial
    synflow), so that every proxy and baseline is compared on the same architectures.
    """
    from nas_harness.progress import progress_bar

    plan = []
    for ds in (get_dataset(d).name for d in datasets):
        names = list(proxies) if proxies else proxy_names(ds, cache)
        names += [b for b in BASELINES if b not in names]
        plan += [(ds, name) for name in names]
    bar = progress_bar(len(plan) * 4, "proxy rows", enabled=progress)
    rows = []
    for ds, name in plan:
        t = table[ds]
        score = proxy_column(name, ds, t, cache=cache).values
        feasible = t.flops <= DEFAULT_FLOPS_FRACTION * np.nanmax(t.flops)
        within = (np.ones_like(feasible) if on is None
                  else proxy_column(on, ds, t, cache=cache).scored)
        for subset in SUBSETS:
            mask = (feasible if subset == "feasible" else np.ones_like(feasible)) & within
            for target in TARGETS:
                acc = t.valid_acc if target == "valid" else t.test_acc
                rng = row_rng(seed, name, ds, target, subset) if n_resamples else None
                rows.append(correlation_row(name, ds, target, subset, score[mask], acc[mask],
                                            t.test_acc[mask], rng, n_resamples))
                bar.update(1)
    bar.close()
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS))


def markdown_table(frame: pd.DataFrame) -> str:
    """The headline view: Kendall tau-b [95% CI] on validation accuracy, all and feasible."""
    lines = ["| dataset | proxy | subset | tau-b (valid) | rho (valid) | tau-b (test) | "
             "top-5% precision (valid) | mean test acc of top 5% |",
             "|---|---|---|---|---|---|---|---|"]
    for (ds, name, subset), rows in frame.groupby(["dataset", "proxy", "subset"], sort=False):
        v = rows[rows["target"] == "valid"].iloc[0]
        te = rows[rows["target"] == "test"].iloc[0]
        lines.append(
            f"| {ds} | {name} | {subset} | {_ci(v, 'kendall')} | {_ci(v, 'spearman')} | "
            f"{_ci(te, 'kendall')} | {_ci(v, 'top5pct_precision')} | "
            f"{_ci(v, 'top5pct_mean_test', 2)} |")
    return "\n".join(lines) + "\n"


def _ci(row: pd.Series, metric: str, digits: int = 3) -> str:
    lo, hi = row[f"{metric}_lo"], row[f"{metric}_hi"]
    text = f"{row[metric]:.{digits}f}"
    return text if np.isnan(lo) else f"{text} [{lo:.{digits}f}, {hi:.{digits}f}]"


def write_report(frame: pd.DataFrame, table: BenchmarkTable, out: Path,
                 cache: str | Path | None = None, on: str | None = None) -> list[Path]:
    """``correlations.csv``, ``correlations.md`` and ``figures/<dataset>.png`` under ``out``.

    ``on``: the figures show only the architectures that proxy scores, as the rows do.
    """
    from nas_harness.analysis.plots.proxies import ProxyPanel, proxy_figure

    out.mkdir(parents=True, exist_ok=True)
    csv = out / "correlations.csv"
    frame.to_csv(csv, index=False, float_format="%.6g", lineterminator="\n")
    md = out / "correlations.md"
    md.write_text(markdown_table(frame), encoding="utf-8")
    written = [csv, md]
    for ds, rows in frame.groupby("dataset", sort=False):
        t = table[str(ds)]
        panels = []
        for name in rows["proxy"].unique():
            sel = rows[(rows["proxy"] == name) & (rows["target"] == "valid")
                       & (rows["subset"] == "all")].iloc[0]
            col = proxy_column(str(name), str(ds), t, cache=cache)
            values = col.values
            if on is not None:
                values = np.where(proxy_column(on, str(ds), t, cache=cache).scored, values,
                                  np.nan)
            panels.append(ProxyPanel(str(name), values, t.valid_acc, float(sel["kendall"]),
                                     col.log_scale or (BUILTIN.get(str(name)) is None
                                                      and _spans_decades(col.values))))
        fig = proxy_figure(get_dataset(str(ds)).label, panels)
        png = out / "figures" / f"{ds}.png"
        png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(png, dpi=FIGURE_DPI, metadata={"Software": None})
        written.append(png)
    return written


def _spans_decades(values: np.ndarray) -> bool:
    """A user proxy gets a log axis when it is positive and spans 3 or more decades."""
    v = values[~np.isnan(values)]
    return bool(len(v) and v.min() > 0 and v.max() / v.min() >= 1e3)
