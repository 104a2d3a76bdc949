"""synflow: the committed record, and a recomputation where the extra is installed.

The record (results/proxies/synflow_record.csv) goes through the loading, validation and
correlation code (no torch needed), and, where torch and xautodl are
installed, a recomputation checked against the record and against an independent
finite-difference computation written here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nas_harness.analysis.metrics.proxies import correlation_row
from nas_harness.benchmarks.proxies import synflow as sf
from nas_harness.benchmarks.proxies.store import load_stored, save_scores
from nas_harness.benchmarks.proxies.user_scores import validate_scores
from nas_harness.cli.proxies_compute import record_scores

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "results" / "proxies" / "synflow_record.csv"
META = RECORD.with_suffix(".json")


def test_record_names_its_versions_and_order():
    meta = json.loads(META.read_text())
    assert meta["torch"].startswith("2.") and meta["xautodl"] == "1.0.0"
    assert meta["init_seed"] == sf.SEED and meta["order_seed"] == sf.ORDER_SEED
    frame = pd.read_csv(RECORD)
    first = sf.compute_order()[:meta["architectures"]].tolist()
    for _, rows in frame.groupby("dataset"):
        assert rows["index"].tolist() == first


def test_record_validates_stores_and_reads_back(tmp_path):
    scores = validate_scores("synflow", RECORD, subset=True)
    assert sorted(scores.columns) == ["ImageNet16-120", "cifar10", "cifar100"]
    assert all((~np.isnan(c)).sum() == 30 for c in scores.columns.values())
    save_scores(scores, RECORD, tmp_path)
    col = load_stored("synflow", "cifar100", tmp_path)
    assert np.array_equal(col.values, record_scores(RECORD)["cifar100"], equal_nan=True)
    with pytest.raises(Exception, match="scores 30 of 32768"):
        validate_scores("synflow", RECORD)  # not declared a subset


def test_record_scores_are_positive_and_span_decades():
    frame = pd.read_csv(RECORD)
    assert (frame["score"] > 0).all()
    assert frame["score"].max() / frame["score"].min() > 100


def test_correlation_on_the_record_matches_scipy(table):
    column = record_scores(RECORD)["cifar10"]
    t = table["cifar10"]
    row = correlation_row("synflow", "cifar10", "valid", "all", column, t.valid_acc,
                          t.test_acc, np.random.default_rng(0), 20)
    keep = ~np.isnan(column)
    assert row["n"] == 30
    assert row["kendall"] == pytest.approx(
        stats.kendalltau(column[keep], t.valid_acc[keep], variant="b").statistic)
    assert row["kendall_lo"] <= row["kendall"] <= row["kendall_hi"]


def test_without_the_extra_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(sf.ExtraMissingError) as err:
        sf.require()
    assert "\n" not in str(err.value) and "pip install torch" in str(err.value)


# -- with torch and xautodl only ---------------------------------------------------------------

def _extra():
    torch = pytest.importorskip("torch")
    xmodels = pytest.importorskip("xautodl.models")
    return torch, xmodels


@pytest.mark.parametrize("dataset", ["cifar10", "ImageNet16-120"])
def test_recompute_matches_the_record(dataset):
    _extra()
    frame = pd.read_csv(RECORD)
    row = frame[frame["dataset"] == dataset].iloc[0]
    assert sf.synflow(int(row["index"]), dataset) == pytest.approx(row["score"], rel=1e-9)


def test_synflow_equals_an_independent_finite_difference_computation():
    """The synflow score equals a central difference of the output, without autograd.

    With |weights| and an all-ones input every activation is positive, so ReLU is the
    identity and the output is affine in the scale of each single layer's weights; then
    sum |w * dR/dw| over a layer = dR/dt at t=0 for w -> (1+t) w, which a central
    difference gives exactly (up to rounding).
    """
    torch, xmodels = _extra()
    torch.manual_seed(0)
    net = xmodels.get_cell_based_tiny_net({
        "name": "infer.shape.tiny", "channels": "8:16:8:24:8", "num_classes": 10,
        "genotype": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                    "+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"}).double().eval()
    ones = torch.ones((1, 3, 32, 32), dtype=torch.float64)
    with torch.no_grad():
        for tensor in net.state_dict().values():
            tensor.abs_()

        def total() -> float:
            return float(net(ones)[1].sum())

        expected, h = 0.0, 1e-3
        for module in net.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                w = module.weight.detach().clone()
                module.weight.copy_(w * (1 + h))
                up = total()
                module.weight.copy_(w * (1 - h))
                down = total()
                module.weight.copy_(w)
                expected += (up - down) / (2 * h)
    from nas_harness.benchmarks.space import SSS

    assert sf.synflow(SSS.parse("8:16:8:24:8"), "cifar10") == pytest.approx(expected, rel=1e-9)
