"""Figures: panels, bands, dashed references, legend, fixed colours; each returns its data."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex, to_rgba

from nas_harness.analysis.metrics.aggregate import final_runs, step_curves, summarize_curves
from nas_harness.analysis.metrics.references import references
from nas_harness.analysis.plots.curves import LEGEND_TITLE, plot_curves
from nas_harness.analysis.plots.distributions import plot_final_distributions
from nas_harness.analysis.plots.scatter import plot_flops_scatter
from nas_harness.analysis.plots.style import (
    ALGORITHM_COLORS,
    BAND_ALPHA,
    BAND_EDGE_ALPHA,
    LIBRARY_LINESTYLES,
    OKABE_ITO,
    algorithm_color,
    algorithm_linestyle,
    algorithm_order,
    fallback_color,
)
from nas_harness.analysis.testing import hand_trajectory, synthetic_table
from nas_harness.benchmarks.datasets import DATASET_NAMES
from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.protocol import Protocol


@pytest.fixture(scope="module")
def table():
    return synthetic_table(0)


@pytest.fixture(scope="module")
def analysed(table):
    rng = np.random.default_rng(5)
    frames = []
    for dataset in DATASET_NAMES:
        feasible = np.flatnonzero(table[dataset].flops <= 0.5 * table[dataset].flops.max())
        for algorithm in ("random", "my_plugin"):
            for run in range(4):
                idx = rng.choice(feasible, size=12, replace=False)
                acc = table[dataset].valid_acc[idx]
                best = np.maximum.accumulate(acc)
                pos = np.maximum.accumulate(np.where(acc == best, np.arange(12), 0))
                inc = idx[pos]
                frames.append(hand_trajectory(f"{dataset}/{algorithm}/{run:03d}",
                                              table[dataset].test_acc[inc], index=inc,
                                              algorithm=algorithm, dataset=dataset, run=run))
    curves = step_curves(pd.concat(frames, ignore_index=True), 12,
                         ("incumbent_test_acc", "incumbent_index"))
    refs = {d: references(table[d], Protocol(d, budget=12)) for d in DATASET_NAMES}
    return summarize_curves(curves), final_runs(curves), refs


def test_curves_figure_has_three_titled_panels_bands_and_dashed_references(analysed, tmp_path):
    summary, _, refs = analysed
    fig, data = plot_curves(summary, refs)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["CIFAR-10", "CIFAR-100", "ImageNet16-120"]
    for ax in axes:
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 2  # one 25-75% band per algorithm
        dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() not in ("-", "None")]
        assert len(dashed) == 2  # both reference lines
        colors = {to_hex(ln.get_color()) for ln in ax.get_lines() if ln.get_linestyle() == "-"}
        assert colors == {algorithm_color("random"), algorithm_color("my_plugin")}
    assert fig.legends[0].get_title().get_text() == LEGEND_TITLE == "mean, 25-75% band"
    assert set(data["algorithm"]) == {"random", "my_plugin"} and len(data) == 2 * 3 * 12
    fig.savefig(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 10_000


def test_band_drawn_is_the_summary_quartiles(analysed):
    summary, _, _ = analysed
    fig, data = plot_curves(summary, datasets=["cifar100"], algorithms=["random"])
    (ax,) = fig.axes
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    ys = band.get_paths()[0].vertices[:, 1]
    rows = data[(data["algorithm"] == "random")]
    assert np.isclose(ys.min(), rows["q25"].min()) and np.isclose(ys.max(), rows["q75"].max())
    # a light fill that overlapping bands see through, and a thin line along its edges
    colour = algorithm_color("random")
    assert tuple(band.get_facecolor()[0]) == pytest.approx(to_rgba(colour, BAND_ALPHA))
    assert tuple(band.get_edgecolor()[0]) == pytest.approx(to_rgba(colour, BAND_EDGE_ALPHA))
    assert BAND_ALPHA <= 0.1 < BAND_EDGE_ALPHA and band.get_linewidth()[0] > 0


def test_other_figures_return_their_data(analysed, table, tmp_path):
    _, final, refs = analysed
    fig, data = plot_final_distributions(final, refs)
    assert len(fig.axes) == 3 and len(data) == 2 * 3 * 4
    fig.savefig(tmp_path / "dist.png")
    # the panels in rows (one per dataset), the algorithms named under the bottom one only
    boxes = [ax.get_position() for ax in fig.axes]
    assert len({round(b.x0, 3) for b in boxes}) == 1 and boxes[0].y0 > boxes[1].y0 > boxes[2].y0
    assert fig.get_size_inches()[0] == 5.0  # as wide as one panel, not three
    names = [[t.get_text() for t in ax.get_xticklabels()] for ax in fig.axes]
    assert names[-1] == ["random", "my_plugin"] and names[0] == names[1] == ["", ""]
    fig, found = plot_flops_scatter(final, table.datasets, refs)
    assert len(fig.axes) == 3 and found["runs"].sum() == 2 * 3 * 4
    row = found.iloc[0]
    assert row["flops"] == table[row["dataset"]].flops[row["arch_index"]]
    assert row["test_acc"] == table[row["dataset"]].test_acc[row["arch_index"]]
    fig.savefig(tmp_path / "scatter.png")


def test_colours_are_fixed_and_unknown_names_get_a_stable_distinct_fallback():
    assert algorithm_color("random") == ALGORITHM_COLORS["random"]
    assert fallback_color("my_plugin") == fallback_color("my_plugin") == \
        algorithm_color("my_plugin")
    assert fallback_color("my_plugin") != fallback_color("my_plugin2")
    assert fallback_color("zz").startswith("#") and len(fallback_color("zz")) == 7
    assert algorithm_order(["zeta", "random", "alpha"]) == ["random", "alpha", "zeta"]


def test_library_adapters_get_their_own_colour_and_their_librarys_dash_pattern(analysed):
    adapters = ["optuna:tpe", "optuna:random", "optuna:qmc", "optuna:nsga2",
                "nevergrad:NGOpt", "nevergrad:DiscreteOnePlusOne",
                "nevergrad:PortfolioDiscreteOnePlusOne", "nevergrad:DiscreteLenglerOnePlusOne",
                "pyglove:evolution", "pyglove:random"]
    builtins = ["random", "evolution", "reinforce", "ppo", "layernas", "layernas:stand-in"]
    colours = [algorithm_color(name) for name in builtins + adapters]
    assert len(set(colours)) == len(colours)  # the libraries experiment's 16 lines differ
    assert algorithm_order(adapters + builtins)[:6] == builtins
    assert {algorithm_linestyle(n) for n in ["my_plugin", "hill:climb"]} == {"-"}
    for name in adapters:
        assert algorithm_linestyle(name) == LIBRARY_LINESTYLES[name.split(":")[0]] != "-"
    summary, _, _ = analysed
    relabelled = summary.replace({"algorithm": {"my_plugin": "nevergrad:NGOpt"}})
    fig, _ = plot_curves(relabelled, datasets=["cifar10"])
    styles = {to_hex(ln.get_color()): ln.get_linestyle() for ln in fig.axes[0].get_lines()}
    assert styles[algorithm_color("random")] == "-"
    assert styles[algorithm_color("nevergrad:NGOpt")] != "-"  # its dash pattern
    legend = {text.get_text() for text in fig.legends[0].get_texts()}
    assert {"random", "nevergrad:NGOpt"} <= legend


def test_every_registered_algorithm_and_the_paper_labels_get_distinct_colours():
    from nas_harness.algorithms.registry import available_algorithms
    from nas_harness.experiment import PAPER_ALGORITHMS

    names = sorted({*available_algorithms(), *PAPER_ALGORITHMS})
    assert len(names) >= 16
    colours = {algorithm_color(name) for name in names}
    assert len(colours) == len(names)
    # the paper's six: Okabe-Ito colours (random search neutral grey), each line unique
    assert {algorithm_color(n) for n in PAPER_ALGORITHMS if n != "random"} <= set(OKABE_ITO)
    assert algorithm_color("random") == "#7f7f7f"
    looks = {(algorithm_color(n), str(algorithm_linestyle(n))) for n in PAPER_ALGORITHMS}
    assert len(looks) == len(PAPER_ALGORITHMS)
    # the two LayerNAS variants: different hues and different dash patterns
    assert algorithm_color("layernas") == "#cc79a7" and algorithm_color("layernas:stand-in") \
        == "#e69f00"
    assert algorithm_linestyle("layernas") == "-" != algorithm_linestyle("layernas:stand-in")
    # a hue family shared by two built-ins (vermillion/orange, blue/green): one of them dashed
    for solid, dashed in (("evolution", "layernas:stand-in"), ("reinforce", "ppo")):
        assert algorithm_linestyle(solid) == "-" != algorithm_linestyle(dashed)


def test_figure_legend_drops_columns_only_until_it_fits():
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from nas_harness.analysis.plots.legend import figure_legend

    def legend(labels, width):
        fig = Figure(figsize=(width, 3), layout="constrained")
        fig.subplots(1, 2)
        handles = [Line2D([], []) for _ in labels]
        made = figure_legend(fig, handles, labels, max_cols=5, fontsize=8)
        renderer = RendererAgg(int(fig.bbox.width), int(fig.bbox.height), fig.dpi)
        return made, made.get_window_extent(renderer).width, fig.bbox.width

    short, width, room = legend(["random", "evolution", "ppo"], 10)
    assert short._ncols == 3 and width <= room  # fits: as fig.legend would draw it
    names = [f"nevergrad:PortfolioDiscreteOnePlusOne-{k}" for k in range(16)]
    wide, width, room = legend(names, 10)
    assert 1 < wide._ncols < 5 and width <= room
    narrow, _, _ = legend(names, 2)
    assert narrow._ncols == 1  # never fewer than one column


def test_ecdf_legend_sits_below_each_panel_in_two_columns_or_one_for_many():
    from nas_harness.analysis.plots.ecdf import LEGEND_TWO_COLUMNS_MAX, plot_ecdf

    def figure(n):
        names = [f"lib:opt{k}" for k in range(n)]
        curves = pd.DataFrame([(d, a, q, q / 10) for d in ("cifar10",) for a in names
                               for q in range(1, 11)],
                              columns=["dataset", "algorithm", "query", "fraction"])
        return plot_ecdf(curves, pd.DataFrame(columns=["dataset", "algorithm", "aocc"]),
                         {"cifar10": 1.0})

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    few, many = figure(LEGEND_TWO_COLUMNS_MAX), figure(LEGEND_TWO_COLUMNS_MAX + 1)
    for fig in (few, many):
        FigureCanvasAgg(fig).draw()
        legend = fig.axes[0].get_legend()
        below = legend.get_window_extent()
        assert below.y1 <= fig.axes[0].get_window_extent().y0  # under the panel, not on it
        assert below.y0 >= 0  # and inside the figure
    assert few.axes[0].get_legend()._ncols == 2 and many.axes[0].get_legend()._ncols == 1
    assert many.get_size_inches()[1] > few.get_size_inches()[1]


def test_plot_refuses_an_empty_selection(analysed):
    summary, _, _ = analysed
    with pytest.raises(DataIntegrityError, match="nothing to plot"):
        plot_curves(summary, datasets=["cifar10"], algorithms=["nope"])


def test_a_reference_below_the_panel_gets_no_label_and_leaves_the_layout_alone(analysed):
    summary, _, refs = analysed
    ref = refs["cifar10"]
    far = {"cifar10": dataclasses.replace(ref, best_by_valid_test_acc=ref.best_test_acc - 500)}
    fig, _ = plot_curves(summary, far, datasets=["cifar10"])
    (ax,) = fig.axes
    low, high = ax.get_ylim()
    labels = [t.get_text() for t in ax.texts]
    # the label of the reference inside the panel only; the far one would sit 500 points below
    assert labels == [f"{ref.best_test_acc:.2f}"] and low <= ref.best_test_acc <= high
    fig.draw_without_rendering()  # constrained layout keeps the panel's y label inside the figure
    box = ax.yaxis.label.get_window_extent()
    assert box.x0 >= 0 and box.y0 >= 0


CD_SCRIPT = """
import hashlib, io, sys
import numpy as np, pandas as pd
from nas_harness.analysis.metrics.ranks import RankTest
from nas_harness.analysis.plots.ranks import plot_critical_difference
names = [f"lib:optimizer-{k}" for k in range(12)]
ranks = pd.Series(np.linspace(3, 9, 12), index=names)
gap = np.abs(np.subtract.outer(ranks.to_numpy(), ranks.to_numpy()))
nemenyi = pd.DataFrame(np.where(gap < 1.6, 0.5, 0.001), index=names, columns=names)
test = RankTest(ranks, 100, 50.0, 1e-6, nemenyi, 1.6, 0.05, "")
fig = plot_critical_difference(test)
buffer = io.BytesIO()
fig.savefig(buffer, format="png")
labels = sorted(t.get_text() for t in fig.axes[0].texts)
print(hashlib.sha256(buffer.getvalue()).hexdigest(), "|".join(labels))
"""


def test_critical_difference_diagram_is_the_same_whatever_the_hash_seed():
    """Overlapping crossbars over many names: drawn alike in processes of other hash seeds."""
    import os
    import subprocess
    import sys

    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "MPLBACKEND": "Agg"}
        done = subprocess.run([sys.executable, "-c", CD_SCRIPT], env=env, check=True,
                              capture_output=True, text=True)
        outputs.add(done.stdout.strip())
    assert len(outputs) == 1
    labels = outputs.pop().split(" ", 1)[1].split("|")
    assert "lib:optimizer-0 (3.00)" in labels and "(9.00) lib:optimizer-11" in labels
    assert not any("@" in label for label in labels)  # every name put back
