"""The closed-form cost model against NATS-Bench's own numbers (official records + all params)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from nas_harness.benchmarks.cost_model import count_flops, count_params, dataset_costs
from nas_harness.benchmarks.errors import InvalidArchitectureError, UnknownNameError
from nas_harness.benchmarks.space import SSS

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("NAS_HARNESS_DATA", REPO_ROOT.parent / "shared/data/natsbench_sss"))
OFFICIAL_DIR = DATA_DIR / "official_nats_bench_sample" / "NATS-sss-v1_0-50262-simple"
MONET_FILES = {
    "cifar10": "Cifar10-NATS.csv",
    "cifar100": "Cifar100-NATS.csv",
    "ImageNet16-120": "ImageNet-NATS.csv",
}
SAMPLE_INDICES = (0, 11, 284)
NATS_KEYS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")


# -- hand-derived values (independent of any data file) ---------------------------------------
def test_smallest_network_by_hand() -> None:
    # 8:8:8:8:8 on CIFAR-10, layer by layer (conv weights x output pixels):
    stem = 27 * 8 * 32 * 32
    cell = 45 * 64  # 2 convs C_in->C_out + 3 convs C_out->C_out, all 3x3 at 8 channels
    res = 9 * 64 + 9 * 64 + 64  # conv_a, conv_b, 1x1 downsample
    flops = stem + cell * 1024 + res * 256 + cell * 256 + res * 64 + cell * 64 + 8 * 10 + 10
    assert count_flops([8, 8, 8, 8, 8], 10, 32) == flops / 1e6 == 4.481114
    params = (27 * 8 + 16) + 3 * (cell + 5 * 16) + 2 * (res + 2 * 16) + 16 + 90
    assert count_params([8, 8, 8, 8, 8], 10) == params == 11714


def test_factorized_reduce_skip_only_when_channels_change() -> None:
    # c1 != c2 turns the cell's skip_connect into a 1x1 conv + BN: c1*c2 + 2*c2 more params.
    same = count_params([8, 16, 16, 8, 8], 10)
    grown = count_params([8, 16, 24, 8, 8], 10)
    no_skip = grown - (16 * 24 + 2 * 24)
    # Without the skip conv, growing c2 from 16 to 24 changes: 2 convs from c1, 3 convs at c2,
    # 5 BNs of the cell, the next residual block's conv_a and downsample (c2 -> c3 = 8).
    delta = 2 * 9 * 16 * 8 + 3 * 9 * (24**2 - 16**2) + 5 * 2 * 8 + 9 * 8 * 8 + 8 * 8
    assert no_skip - same == delta


def test_vectorised_matches_scalar_and_types() -> None:
    idx = np.array([0, 1, 777, 12345, 32767])
    chans = SSS.channels(idx)
    flops = count_flops(chans, 100, 32)
    params = count_params(chans, 100)
    assert flops.shape == params.shape == (5,)
    assert flops.dtype == np.float64 and params.dtype == np.int64
    for row, f, p in zip(chans, flops, params, strict=True):
        assert isinstance(count_flops(row, 100, 32), float)
        assert isinstance(count_params(row, 100), int)
        assert count_flops(tuple(row), 100, 32) == f
        assert count_params(list(row), 100) == p
    assert np.all(np.diff(count_params(SSS.channels(np.arange(8)), 10)) > 0)


def test_largest_network_params() -> None:
    # 64:64:64:64:64, quoted in the data SOURCE.md for the three classifiers.
    assert [count_params([64] * 5, k) for k in (10, 100, 120)] == [713674, 719524, 720824]


def test_bad_input_is_rejected() -> None:
    with pytest.raises(InvalidArchitectureError, match="5 channel values"):
        count_flops([8, 8, 8, 8], 10, 32)
    with pytest.raises(InvalidArchitectureError, match="positive"):
        count_params([8, 8, 0, 8, 8], 10)
    with pytest.raises(InvalidArchitectureError, match="integers"):
        count_params([8, 8, 8.5, 8, 8], 10)
    with pytest.raises(InvalidArchitectureError, match="multiple of 4"):
        count_flops([8] * 5, 10, 30)
    with pytest.raises(InvalidArchitectureError, match="num_classes"):
        count_params([8] * 5, 0)
    with pytest.raises(UnknownNameError, match="unknown dataset"):
        dataset_costs([8] * 5, "mnist")


def test_dataset_costs_uses_dataset_shape() -> None:
    chans = SSS.channels(np.arange(0, 32768, 997))
    flops, params = dataset_costs(chans, "ImageNet16-120")
    np.testing.assert_array_equal(flops, count_flops(chans, 120, 16))
    np.testing.assert_array_equal(params, count_params(chans, 120))
    valid = dataset_costs(chans, "cifar10-valid")
    base = dataset_costs(chans, "cifar10")
    np.testing.assert_array_equal(valid[0], base[0])
    np.testing.assert_array_equal(valid[1], base[1])


# -- ground truth from the data directory --------------------------------------------------------
@pytest.fixture(scope="module")
def official_api():
    if not (OFFICIAL_DIR / "meta.pickle.pbz2").exists():
        pytest.skip(f"official NATS-Bench sample records not found under {OFFICIAL_DIR} "
                    "(set NAS_HARNESS_DATA to the natsbench_sss data directory)")
    nats_bench = pytest.importorskip("nats_bench")
    return nats_bench.create(str(OFFICIAL_DIR), "sss", fast_mode=True, verbose=False)


@pytest.mark.parametrize("index", SAMPLE_INDICES)
@pytest.mark.parametrize("key", NATS_KEYS)
def test_official_flops_and_params(official_api, index: int, key: str) -> None:
    info = official_api.get_cost_info(index, key, hp="90")
    flops, params = dataset_costs(SSS.channels(index), key)
    assert official_api.arch(index) == SSS.format(index)
    # Exact: the closed form is the integer FLOP count that xautodl divides by 1e6.
    assert float(flops) == info["flops"]
    assert int(params) / 1e6 == pytest.approx(info["params"], abs=5e-13)


@pytest.mark.parametrize("dataset", list(MONET_FILES))
def test_params_match_every_architecture(dataset: str) -> None:
    path = DATA_DIR / "monet" / MONET_FILES[dataset]
    if not path.exists():
        pytest.skip(f"{path} not found (set NAS_HARNESS_DATA to the natsbench_sss data directory)")
    pd = pytest.importorskip("pandas")
    table = pd.read_csv(path, usecols=["index", "num_param"])
    np.testing.assert_array_equal(table["index"].to_numpy(), SSS.all_indices())
    _, params = dataset_costs(SSS.channels(SSS.all_indices()), dataset)
    expected = table["num_param"].to_numpy()
    mismatches = np.flatnonzero(params != expected)
    assert mismatches.size == 0, (
        f"{mismatches.size} params mismatches on {dataset}, first at index {mismatches[:5]}"
    )
