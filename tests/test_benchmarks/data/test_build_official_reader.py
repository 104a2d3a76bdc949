"""The direct record reader gives the ``nats_bench`` API's values, bit for bit, on the sample.

The builder reads the bz2 pickles itself (fast, parallel); these tests recompute every column
through the official API on the 3-architecture sample and demand exact equality, including
the time that ``simulate_train_eval(..., hp='12')`` charges for each seed.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from nas_harness.benchmarks.data.build_official import build_from_official_archive
from nas_harness.benchmarks.datasets import DATASETS
from nas_harness.benchmarks.table import HP12_SEEDS

nats_bench = pytest.importorskip("nats_bench")
SAMPLE_INDICES = [0, 11, 284]


@pytest.fixture(scope="module")
def direct(official_dir: Path):
    return build_from_official_archive(official_dir, allow_partial=True, workers=1)


@pytest.fixture(scope="module")
def api(official_dir: Path):
    return nats_bench.create(str(official_dir), "sss", fast_mode=True, verbose=False)


def _api_row(api, index: int, name: str) -> dict:
    spec = DATASETS[name]
    valid = api.get_more_info(index, spec.valid_split, hp="90", is_random=False)
    test = api.get_more_info(index, spec.test_split, hp="90", is_random=False)
    cost = api.get_cost_info(index, spec.test_split, hp="90")
    hp12 = api.query_meta_info_by_index(index, hp="12")
    accs, times = [], []
    for seed in HP12_SEEDS:
        info = api.get_more_info(index, spec.valid_split, hp="12", is_random=seed)
        accs.append(info["valid-accuracy"])
        times.append(info["train-all-time"] + info["valid-per-time"])  # simulate_train_eval
    seed_times = hp12.query(spec.valid_split, HP12_SEEDS[0]).get_times()
    return {"valid_acc": valid["valid-accuracy"], "test_acc": test["test-accuracy"],
            "flops": cost["flops"], "params": round(cost["params"] * 1e6),
            "latency": api.get_latency(index, spec.test_split, hp="12"),
            "hp12_valid_acc": accs, "hp12_time": times,
            "hp12_train_time": seed_times["T-train@total"],
            "hp12_eval_time": seed_times["T-x-valid@total"]}


@pytest.mark.parametrize("name", list(DATASETS))
def test_direct_reader_equals_the_api(direct, api, name: str) -> None:
    table = direct[name]
    for index in SAMPLE_INDICES:
        expected = _api_row(api, index, name)
        got = {col: getattr(table, col)[index] for col in expected}
        for col, value in expected.items():
            np.testing.assert_array_equal(np.asarray(got[col], dtype=np.float64),
                                          np.asarray(value, dtype=np.float64), err_msg=col)


def test_simulate_train_eval_charges_one_of_the_seed_times(direct, api) -> None:
    random.seed(0)  # nats_bench draws its seed with the random module
    for name in DATASETS:
        for index in SAMPLE_INDICES:
            acc, _, cost, _ = api.simulate_train_eval(api.meta_archs[index], name, hp="12")
            pairs = set(zip(direct[name].hp12_valid_acc[index].tolist(),
                            direct[name].hp12_time[index].tolist(), strict=True))
            assert (acc, cost) in pairs
