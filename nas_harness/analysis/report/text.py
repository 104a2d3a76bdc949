"""The report's words: the protocol, the rank tests, the anytime measures and the claims.

Each function reads an :class:`~nas_harness.analysis.report.analysis.Analysis` and returns
(label, text) pairs or sentences; the renderers lay them out as Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from nas_harness.analysis.metrics.anytime import N_TARGETS
from nas_harness.analysis.metrics.criteria import SETTLE_TOL
from nas_harness.analysis.metrics.significance import claim, effect_label, p_text
from nas_harness.analysis.metrics.time_axis import FRACTION_COLUMN
from nas_harness.analysis.plots.curves import panel_title
from nas_harness.analysis.plots.style import algorithm_order
from nas_harness.analysis.report.analysis import Analysis

Pairs = list[tuple[str, str]]


def protocol_lines(a: Analysis) -> Pairs:
    """What was run: datasets, algorithms, fidelity, constraint, budget, runs, seeds, rules."""
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


def _time_protocol_lines(a: Analysis, lines: Pairs) -> Pairs:
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
    fractions = ", ".join(f"{100 * axis.fraction(c):g}%" for c in a.axis.stat_checkpoints)
    seconds = "; ".join(f"{panel_title(d)} " + ", ".join(
        f"{axis.seconds(d)[c - 1]:g}" for c in a.axis.stat_checkpoints) + " s" for d in datasets)
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


def at_budget(a: Analysis, sig: pd.DataFrame) -> pd.Series:
    """Rows of a pairwise-test table at the budget (the time budget on the time axis)."""
    if a.time_axis is None:
        return sig["query"] == a.results.budget
    return sig[FRACTION_COLUMN] == 1.0


def claims(a: Analysis) -> list[str]:
    """Every comparison at the budget in words, each with its test (corrected p, A12)."""
    sig = a.stats.significance
    if sig.empty:
        return ["only one algorithm: nothing to compare"]
    return [f"{panel_title(str(row['dataset']))}: {claim(row)}"
            for row in sig[at_budget(a, sig)].to_dict("records")]


def rank_lines(a: Analysis) -> Pairs:
    """The Friedman and Nemenyi tests over (dataset, checkpoint, run index) blocks."""
    t = a.stats.rank_test
    columns = a.axis.stat_checkpoints
    points = ", ".join(map(str, columns)) if a.time_axis is None else ", ".join(
        f"{100 * a.time_axis.fraction(c):g}%" for c in columns) + " of the time budget"
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


def anytime_lines(a: Analysis) -> Pairs:
    """How the targets, the ECDF, AOCC and ERT are defined (and their axis on the clock)."""
    spans = ", ".join(f"{panel_title(d)} 0..{v:.2f}" for d, v in a.stats.spans.items())
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


def verdict(row: Mapping[str, object]) -> str:
    """One comparison at the budget in a table cell: the better algorithm (if any), p, A12."""
    a, b = str(row["algorithm_a"]), str(row["algorithm_b"])
    p_holm, effect = float(row["p_holm"]), float(row["a12"])  # type: ignore[arg-type]
    if np.isnan(p_holm):
        return f"not tested ({row.get('note') or 'no runs'})"
    if row["significant"]:
        hi, prob = (a, effect) if effect > 0.5 else (b, 1.0 - effect)
        return f"{hi} better: p {p_text(p_holm)}, A12 = {prob:.2f} ({effect_label(prob)})"
    return f"no significant difference: p {p_text(p_holm)}, A12 = {effect:.2f}"


def findings(a: Analysis) -> pd.DataFrame:
    """The comparisons at the budget as a short table: a row per pair, a column per dataset.

    Each cell gives the verdict with its test (two-sided Mann-Whitney U, Holm-corrected p,
    Vargha-Delaney A12 of the better algorithm, or of the first-named when none is).
    """
    sig = a.stats.significance
    if sig.empty:
        return pd.DataFrame({"finding": ["only one algorithm: nothing to compare"]})
    rows: dict[str, dict[str, str]] = {}
    for row in sig[at_budget(a, sig)].to_dict("records"):
        pair = f"{row['algorithm_a']} vs {row['algorithm_b']}"
        rows.setdefault(pair, {"pair": pair})[panel_title(str(row["dataset"]))] = verdict(row)
    columns = ["pair", *(panel_title(d) for d in a.refs)]
    frame = pd.DataFrame(list(rows.values()))
    return frame.reindex(columns=[c for c in columns if c in frame.columns]).fillna("")
