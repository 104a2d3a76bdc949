"""Summarise a proxy-guided sweep: each guided algorithm against its plain version.

Per dataset, query budget (checkpoint) and family (random, evolution, LayerNAS): the test
accuracy of the incumbent (the best *validation* accuracy among feasible queries so far)
over runs, compared pairwise within the family with the statistics layer
(:func:`nas_harness.analysis.metrics.significance.pairwise_tests`: two-sided Mann-Whitney U,
Holm within each (dataset, budget, family), Vargha-Delaney A12, bootstrap 95% intervals of
the means). ``guided-X-params`` is the baseline: a proxy "helps" only if it beats plain *and*
is not beaten by params.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from nas_harness.analysis.metrics.significance import pairwise_tests
from nas_harness.benchmarks.datasets import DATASET_NAMES

CHECKPOINTS: tuple[int, ...] = (50, 100, 200, 500)
FAMILIES: tuple[tuple[str, str], ...] = (("random", "guided-random"),
                                         ("evolution", "guided-evolution"),
                                         ("layernas", "guided-layernas"))


def incumbents_at(trajectories: pd.DataFrame, checkpoints: Sequence[int]) -> pd.DataFrame:
    """Incumbent test accuracy of every run after each checkpoint's number of queries.

    A run that stopped earlier keeps its last incumbent. Columns: dataset, algorithm, run,
    query, test.
    """
    frame = trajectories.sort_values(["run_id", "query"])
    rows = []
    for q in checkpoints:
        upto = frame[frame["query"] <= q].groupby("run_id", sort=True).tail(1)
        rows.append(pd.DataFrame({"dataset": upto["dataset"].to_numpy(),
                                  "algorithm": upto["algorithm"].to_numpy(),
                                  "run": upto["run"].to_numpy(), "query": q,
                                  "test": upto["incumbent_test_acc"].to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def _rank(dataset: str) -> int:
    """Datasets in the harness's order (CIFAR-10, CIFAR-100, ImageNet16-120)."""
    return DATASET_NAMES.index(dataset) if dataset in DATASET_NAMES else len(DATASET_NAMES)


def guided_tests(values: pd.DataFrame) -> pd.DataFrame:
    """``pairwise_tests`` per family, with a ``family`` column."""
    out = []
    labels = set(values["algorithm"])
    for plain, guided in FAMILIES:
        members = [plain, *sorted(a for a in labels if a.startswith(guided + "-"))]
        if plain not in labels or len(members) < 2:
            continue
        part = values[values["algorithm"].isin(members)]
        samples = {(str(ds), int(q)): {str(a): g["test"].to_numpy(dtype=float)
                                       for a, g in grp.groupby("algorithm", sort=True)}
                   for (ds, q), grp in part.groupby(["dataset", "query"], sort=True)}
        samples = dict(sorted(samples.items(), key=lambda kv: (_rank(kv[0][0]), kv[0][1])))
        table = pairwise_tests(samples, order=members)
        out.append(table.assign(family=plain))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _verdict(row: pd.Series, name: str) -> str:
    """The comparison from ``name``'s side: A12 = P(name's run beats the other's)."""
    a12 = row["a12"] if row["algorithm_a"] == name else 1 - row["a12"]
    if not row["significant"]:
        return f"n.s. (p_holm {row['p_holm']:.2g}, A12 {a12:.2f})"
    who = "better" if row["better"] == name else "worse"
    return f"{who} (p_holm {row['p_holm']:.2g}, A12 {a12:.2f})"


def markdown(tests: pd.DataFrame) -> str:
    """One table per family: mean test accuracy [95% CI] and each guided run against plain."""
    lines: list[str] = []
    for family, rows in tests.groupby("family", sort=False):
        lines += [f"### {family}", "",
                  "| dataset | queries | algorithm | mean test acc [95% CI] | vs plain | "
                  "vs guided by params |", "|---|---|---|---|---|---|"]
        for (ds, q), fam in rows.groupby(["dataset", "query"], sort=False):
            first = fam.iloc[0]
            lines.append(f"| {ds} | {q} | {family} | {first['mean_a']:.2f} "
                         f"[{first['ci_low_a']:.2f}, {first['ci_high_a']:.2f}] | | |")
            guided = fam[fam["algorithm_a"] == family]
            for _, row in guided.iterrows():
                name = row["algorithm_b"]
                base = fam[(fam["algorithm_b"] == name) & fam["algorithm_a"].str.endswith(
                    "-params")]
                if name.endswith("-params"):
                    vs_params = "(baseline)"
                elif len(base):
                    vs_params = _verdict(base.iloc[0], name)
                else:
                    base = fam[(fam["algorithm_a"] == name)
                               & fam["algorithm_b"].str.endswith("-params")]
                    vs_params = _verdict(base.iloc[0], name) if len(base) else ""
                lines.append(f"| {ds} | {q} | {name} | {row['mean_b']:.2f} "
                             f"[{row['ci_low_b']:.2f}, {row['ci_high_b']:.2f}] | "
                             f"{_verdict(row, name)} | {vs_params} |")
        lines.append("")
    return "\n".join(lines)


def summarise(runs_dir: Path, out: Path,
              checkpoints: Sequence[int] = CHECKPOINTS) -> list[Path]:
    """Write ``guided.csv`` (every test) and ``guided.md`` (the tables) under ``out``."""
    from nas_harness.analysis.runs import load_results

    results = load_results(runs_dir, columns=["algorithm", "dataset", "run", "query",
                                              "incumbent_test_acc"])
    tests = guided_tests(incumbents_at(results.trajectories, checkpoints))
    out.mkdir(parents=True, exist_ok=True)
    csv, md = out / "guided.csv", out / "guided.md"
    tests.to_csv(csv, index=False, float_format="%.6g", lineterminator="\n")
    md.write_text(markdown(tests), encoding="utf-8")
    return [csv, md]

