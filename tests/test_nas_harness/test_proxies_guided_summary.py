"""The guided-search summary on synthetic trajectories (invented numbers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nas_harness.cli.proxies_guided import guided_tests, incumbents_at, markdown


def trajectories() -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(0)
    for algo, shift in (("random", 0.0), ("guided-random-ntk", 1.0),
                        ("guided-random-params", 1.0)):
        for run in range(20):
            base = 90 + shift + rng.normal(0, 0.3)
            for q in range(1, 61):
                rows.append({"run_id": f"cifar10/{algo}/{run:03d}", "algorithm": algo,
                             "dataset": "cifar10", "run": run, "query": q,
                             "incumbent_test_acc": base + q / 100})
    return pd.DataFrame(rows)


def test_incumbents_at_takes_the_last_row_up_to_each_checkpoint():
    values = incumbents_at(trajectories(), (50, 100))
    one = values[(values.algorithm == "random") & (values.run == 0)]
    first = trajectories().query("algorithm == 'random' and run == 0")
    assert one[one["query"] == 50]["test"].item() == pytest.approx(
        first[first["query"] == 50]["incumbent_test_acc"].item())
    # a run that stopped at 60 queries keeps its last incumbent at 100
    assert one[one["query"] == 100]["test"].item() == pytest.approx(
        first["incumbent_test_acc"].iloc[-1])


def test_tests_within_the_family_match_scipy_and_holm():
    values = incumbents_at(trajectories(), (50,))
    tests = guided_tests(values)
    assert set(tests["family"]) == {"random"} and len(tests) == 3  # 3 pairs
    row = tests[(tests.algorithm_a == "random") & (tests.algorithm_b == "guided-random-ntk")]
    a = values[values.algorithm == "random"]["test"].to_numpy()
    b = values[values.algorithm == "guided-random-ntk"]["test"].to_numpy()
    assert row["p_value"].item() == pytest.approx(stats.mannwhitneyu(a, b).pvalue)
    assert row["better"].item() == "guided-random-ntk"
    assert row["p_holm"].item() == pytest.approx(min(1.0, 3 * row["p_value"].item()))
    text = markdown(tests)
    assert "| cifar10 | 50 | guided-random-ntk |" in text and "better (p_holm" in text
    assert "(baseline)" in text
