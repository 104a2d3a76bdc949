"""The report's sections from the other tracks' results: Pareto fronts and training-free proxies.

``nas-harness reproduce experiments/fronts.toml`` and ``... proxies.toml`` write their results
to ``fronts/`` and ``proxies/`` beside the main report (``results/fronts``, ``results/proxies``).
When those folders are there, the HTML page gains a section per track, read from their
committed CSV files and figures; when they are not, the page is what it was. ``summary.md``
never carries these sections, so the single-objective summary does not depend on whether the
other tracks have been run.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nas_harness.analysis.plots.curves import dataset_order, panel_title
from nas_harness.analysis.plots.style import algorithm_order
from nas_harness.analysis.report.sections import Section

FRONTS_DIR = "fronts"
PROXIES_DIR = "proxies"
TRACK_FIGURES: dict[str, str] = {
    "fronts/figures/hv_over_queries": "Normalised test hypervolume of the attained front over "
                                      "queries (mean, 25-75% band over runs), one panel per "
                                      "dataset",
    "fronts/figures/attainment_50": "50% empirical attainment surface of each algorithm beside "
                                    "the exact test front",
}
"""The fronts figures shown, by path (without ``.png``) relative to the report's folder."""


def proxy_figure(dataset: str) -> str:
    """The stem (path relative to the report's folder) of a dataset's proxy figure."""
    return f"{PROXIES_DIR}/figures/{dataset}"


def track_figure_title(stem: str) -> str | None:
    """The title of a track's figure, or ``None`` when ``stem`` is not one."""
    if stem in TRACK_FIGURES:
        return TRACK_FIGURES[stem]
    prefix = f"{PROXIES_DIR}/figures/"
    if stem.startswith(prefix):
        return f"{panel_title(stem.removeprefix(prefix))}: each proxy against validation accuracy"
    return None


def _sort(frame: pd.DataFrame, *keys: str) -> pd.DataFrame:
    """Rows in the report's dataset and algorithm order, then by ``keys``."""
    data = {d: i for i, d in enumerate(dataset_order(frame["dataset"].unique()))}
    cols = ["_d"]
    frame = frame.assign(_d=frame["dataset"].map(data))
    if "algorithm" in frame:
        alg = {a: i for i, a in enumerate(algorithm_order(frame["algorithm"].unique()))}
        frame = frame.assign(_a=frame["algorithm"].map(alg))
        cols.append("_a")
    return frame.sort_values([*cols, *keys], kind="stable").drop(columns=cols)


def _band(mean: pd.Series, lo: pd.Series, hi: pd.Series, digits: int) -> list[str]:
    return [f"{m:.{digits}f} [{a:.{digits}f}, {b:.{digits}f}]"
            for m, a, b in zip(mean, lo, hi, strict=True)]


def hv_display(hv: pd.DataFrame) -> pd.DataFrame:
    """Normalised test HV at each dataset's largest query count, per algorithm."""
    last = hv[hv["queries"] == hv.groupby("dataset")["queries"].transform("max")]
    last = _sort(last)
    return pd.DataFrame({
        "dataset": last["dataset"].map(panel_title), "algorithm": last["algorithm"],
        "queries": last["queries"],
        "normalised test HV, mean [q25, q75]": _band(last["mean"], last["q25"], last["q75"], 3),
    }).reset_index(drop=True)


def budgets_display(budgets: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy per FLOPs budget and mode (one search, split, separate) with the regret."""
    frame = _sort(budgets, "flops_fraction", "mode")
    return pd.DataFrame({
        "dataset": frame["dataset"].map(panel_title), "algorithm": frame["algorithm"],
        "FLOPs fraction": [f"{f:g}" for f in frame["flops_fraction"]],
        "mode": frame["mode"], "queries": frame["queries"],
        "test acc (%), mean [q25, q75]": _band(frame["mean_test"], frame["q25"], frame["q75"],
                                               2),
        "perfect search (%)": [f"{v:.2f}" for v in frame["perfect"]],
        "regret": [f"{v:.2f}" for v in frame["regret"]],
    }).reset_index(drop=True)


def correlation_display(corr: pd.DataFrame) -> pd.DataFrame:
    """Each proxy's rank correlation with validation accuracy over all architectures."""
    frame = corr[(corr["target"] == "valid") & (corr["subset"] == "all")]
    frame = _sort(frame, "proxy")
    return pd.DataFrame({
        "dataset": frame["dataset"].map(panel_title), "proxy": frame["proxy"],
        "Kendall tau-b [95% CI]": _band(frame["kendall"], frame["kendall_lo"],
                                        frame["kendall_hi"], 3),
        "Spearman rho [95% CI]": _band(frame["spearman"], frame["spearman_lo"],
                                       frame["spearman_hi"], 3),
        "top-1% precision": [f"{v:.3f}" for v in frame["top1pct_precision"]],
        "top-5% precision": [f"{v:.3f}" for v in frame["top5pct_precision"]],
    }).reset_index(drop=True)


def guided_display(guided: pd.DataFrame) -> pd.DataFrame:
    """Proxy-guided search against its plain version: the pairwise tests at every budget."""
    frame = _sort(guided, "family", "query")
    return pd.DataFrame({
        "dataset": frame["dataset"].map(panel_title), "queries": frame["query"],
        "A": frame["algorithm_a"], "B": frame["algorithm_b"],
        "mean A (%)": [f"{v:.2f}" for v in frame["mean_a"]],
        "mean B (%)": [f"{v:.2f}" for v in frame["mean_b"]],
        "p (Holm)": [f"{v:.2g}" for v in frame["p_holm"]], "A12": frame["a12"].round(3),
        "better": [b if s else "not significant" for b, s in
                   zip(frame["better"], frame["significant"], strict=True)],
    }).reset_index(drop=True)


def fronts_sections(out_dir: Path) -> list[Section]:
    """The Pareto-fronts sections from ``out_dir/fronts`` (none when it is absent)."""
    folder = out_dir / FRONTS_DIR
    parts: list[Section] = []
    if (folder / "hv.csv").is_file():
        parts.append(Section("Pareto fronts: normalised test hypervolume at the budget", "table",
                             hv_display(pd.read_csv(folder / "hv.csv")), "fronts-hv",
                             "fronts.md", f"{FRONTS_DIR}/hv.csv"))
    figures = [s for s in TRACK_FIGURES if (out_dir / f"{s}.png").is_file()]
    if figures:
        parts.append(Section("Pareto fronts: figures", "figures", figures, "fronts-figures",
                             "fronts.md"))
    if (folder / "budgets.csv").is_file():
        parts.append(Section("Pareto fronts: one search for all budgets, split, separate",
                             "table", budgets_display(pd.read_csv(folder / "budgets.csv")),
                             "fronts-budgets", "fronts.md", f"{FRONTS_DIR}/budgets.csv"))
    return parts


def proxies_sections(out_dir: Path) -> list[Section]:
    """The training-free-proxies sections from ``out_dir/proxies`` (none when it is absent)."""
    folder = out_dir / PROXIES_DIR
    parts: list[Section] = []
    corr_csv = folder / "correlations.csv"
    if corr_csv.is_file():
        corr = pd.read_csv(corr_csv)
        parts.append(Section("Training-free proxies: rank correlation with validation accuracy "
                             "(all architectures; bootstrap 95% CI)", "table",
                             correlation_display(corr), "proxies-correlations", "proxies.md",
                             f"{PROXIES_DIR}/correlations.csv"))
        stems = [proxy_figure(d) for d in dataset_order(corr["dataset"].unique())]
        stems = [s for s in stems if (out_dir / f"{s}.png").is_file()]
        if stems:
            parts.append(Section("Training-free proxies: figures", "figures", stems,
                                 "proxies-figures", "proxies.md"))
    if (folder / "guided.csv").is_file():
        parts.append(Section("Training-free proxies: guided search against its plain version "
                             "(two-sided Mann-Whitney U, Holm-corrected; A12)", "table",
                             guided_display(pd.read_csv(folder / "guided.csv")),
                             "proxies-guided", "proxies.md", f"{PROXIES_DIR}/guided.csv"))
    return parts


def track_sections(out_dir: Path) -> dict[str, Section]:
    """Every track section found beside a report in ``out_dir``, by key."""
    return {s.key: s for s in (*fronts_sections(out_dir), *proxies_sections(out_dir))}
