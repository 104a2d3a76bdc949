"""Cross-check the closed form against the real xautodl network (skipped without torch/xautodl).

Install for this check only: ``pip install torch`` and ``pip install --no-deps xautodl``.
"""

from __future__ import annotations

import numpy as np
import pytest

from nas_harness.benchmarks.cost_model import count_flops, count_params
from nas_harness.benchmarks.space import SSS

torch = pytest.importorskip("torch")
xmodels = pytest.importorskip("xautodl.models")

# The fixed cell of every SSS network, as stored in the official records' arch_config.
GENOTYPE = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)
# Smallest, largest, the official samples and a few with every kind of channel change.
INDICES = (0, 284, 11, 9421, 20000, 32767)
SHAPES = {"cifar10": (10, 32), "cifar100": (100, 32), "ImageNet16-120": (120, 16)}


def _network(channels: np.ndarray, num_classes: int):
    config = {
        "name": "infer.shape.tiny",
        "channels": ":".join(str(int(c)) for c in channels),
        "genotype": GENOTYPE,
        "num_classes": num_classes,
    }
    return xmodels.get_cell_based_tiny_net(config)


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize("dataset", list(SHAPES))
def test_closed_form_matches_xautodl(index: int, dataset: str) -> None:
    num_classes, size = SHAPES[dataset]
    channels = SSS.channels(index)
    net = _network(channels, num_classes)
    params = sum(p.numel() for p in net.parameters())
    assert count_params(channels, num_classes) == params
    flop_benchmark = pytest.importorskip("xautodl.utils.flop_benchmark")
    torch.manual_seed(0)
    flops_m, params_m = flop_benchmark.get_model_infos(net, (1, 3, size, size))
    assert count_flops(channels, num_classes, size) == pytest.approx(flops_m, abs=1e-9)
    assert params_m == pytest.approx(params / 1e6, abs=1e-12)
