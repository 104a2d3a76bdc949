"""The closed-form cost model against the committed record of the real xautodl networks.

``xautodl_costs.json`` was written by ``tools/xautodl_record.py`` from networks that
xautodl itself built and counted (torch and xautodl versions inside); it holds structure
only, no benchmark data. This test needs neither torch nor xautodl, so CI always runs it;
``test_cost_model_xautodl.py`` repeats the comparison live where torch is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nas_harness.benchmarks.cost_model import count_flops, count_params, dataset_costs
from nas_harness.benchmarks.space import SSS

RECORD = json.loads((Path(__file__).with_name("xautodl_costs.json")).read_text())
ROWS = RECORD["records"]


def test_the_record_says_where_it_comes_from_and_covers_a_spread():
    assert RECORD["torch"] and RECORD["xautodl"] == "1.0.0"
    assert {r["dataset"] for r in ROWS} == {"cifar10", "cifar100", "ImageNet16-120"}
    indices = {r["index"] for r in ROWS}
    assert {0, SSS.size - 1} <= indices and len(indices) >= 100
    # every channel option of every layer appears in some recorded network
    seen = np.array([r["channels"] for r in ROWS])
    for layer, options in enumerate(SSS.options):
        assert set(seen[:, layer]) == set(options)


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
def test_closed_form_equals_the_recorded_networks(dataset):
    rows = [r for r in ROWS if r["dataset"] == dataset]
    indices = np.array([r["index"] for r in rows])
    channels = SSS.channels(indices)
    # the record's channels are those the space gives for the index
    np.testing.assert_array_equal(channels, [r["channels"] for r in rows])
    want_params = np.array([r["params"] for r in rows])
    want_flops = np.array([r["flops_m"] for r in rows])
    k, size = rows[0]["num_classes"], rows[0]["input_size"]
    np.testing.assert_array_equal(count_params(channels, k), want_params)
    np.testing.assert_allclose(count_flops(channels, k, size), want_flops, rtol=0, atol=1e-9)
    # the per-dataset route gives the same numbers
    flops, params = dataset_costs(channels, dataset)
    np.testing.assert_array_equal(params, want_params)
    np.testing.assert_allclose(flops, want_flops, rtol=0, atol=1e-9)
    # one at a time (the scalar route) as well
    row = rows[len(rows) // 2]
    assert count_params(row["channels"], k) == row["params"]
    assert count_flops(row["channels"], k, size) == pytest.approx(row["flops_m"], abs=1e-9)
