"""synflow (Tanaka et al. 2020) of size-space networks, computed here with torch and xautodl.

Each network is the official size-space model (xautodl's ``get_cell_based_tiny_net`` with
config ``infer.shape.tiny``, the channels and the fixed genotype, as NATS-Bench builds it),
initialised by xautodl after ``torch.manual_seed(SEED)``. As in Tanaka et al.'s reference
code (``Pruners/pruners.py``, ``SynFlow.score``) and zero-cost-nas: every tensor of the state
dict is replaced by its absolute value, the network runs in eval mode (BatchNorm uses its
running statistics, mean 0 and variance 1 at initialisation) in float64 on one all-ones input
of the dataset's resolution, ``sum(output)`` is back-propagated, and the score is the sum
over every ``Conv2d`` and ``Linear`` weight of ``|w * dR/dw|``. No data is needed; the score
depends on the dataset only through the input resolution and the number of classes.

torch and xautodl are an optional extra (``pip install torch``; ``pip install --no-deps
xautodl``: xautodl pins an old numpy); without them :func:`require` says so in one line.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from nas_harness.benchmarks.datasets import get_dataset
from nas_harness.benchmarks.errors import HarnessError
from nas_harness.benchmarks.space import SSS

SEED = 0
GENOTYPE = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
            "+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
ORDER_SEED = 20261207
"""Architectures are computed in one fixed random order, so ``--limit N`` covers the space
evenly and a later, larger ``--limit`` continues where the last call stopped."""


class ExtraMissingError(HarnessError, ImportError):
    """torch or xautodl is not installed."""


def require() -> tuple[Any, Any]:
    """``(torch, xautodl.models)``, or one line naming what to install."""
    try:
        import torch
        import xautodl.models as xmodels
    except ImportError as exc:
        raise ExtraMissingError(
            f"synflow needs torch and xautodl ({exc.name} is missing): `pip install torch` "
            "then `pip install --no-deps xautodl`") from None
    return torch, xmodels


def versions() -> dict[str, str]:
    """The versions of torch and xautodl (for the record)."""
    from importlib import metadata

    torch, _ = require()
    return {"torch": str(torch.__version__), "xautodl": metadata.version("xautodl")}


def network(index: int, dataset: str) -> Any:
    """The official size-space network of ``index`` for ``dataset``, seeded initialisation."""
    torch, xmodels = require()
    spec = get_dataset(dataset)
    torch.manual_seed(SEED)
    config = {"name": "infer.shape.tiny", "channels": SSS.format(index),
              "genotype": GENOTYPE, "num_classes": spec.num_classes}
    return xmodels.get_cell_based_tiny_net(config)


def synflow(index: int, dataset: str) -> float:
    """The synflow score of one architecture on one dataset (float64)."""
    torch, _ = require()
    spec = get_dataset(dataset)
    net = network(index, spec.name).double().eval()
    with torch.no_grad():
        for tensor in net.state_dict().values():
            tensor.abs_()
    net.zero_grad()
    ones = torch.ones((1, 3, spec.input_size, spec.input_size), dtype=torch.float64)
    output = net(ones)
    logits = output[1] if isinstance(output, tuple) else output
    logits.sum().backward()
    total = 0.0
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)) \
                    and module.weight.grad is not None:
                total += float((module.weight * module.weight.grad).abs().sum())
    return total


def compute_order() -> np.ndarray:
    """Every index in the fixed order ``--limit`` follows."""
    return np.random.default_rng(ORDER_SEED).permutation(SSS.size)


def read_work(path: Path) -> dict[int, float]:
    """Scores already computed (a resumable CSV: index, arch, score, seconds)."""
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {int(row["index"]): float(row["score"]) for row in csv.DictReader(handle)}


def append_work(path: Path, index: int, score: float, seconds: float) -> None:
    """Add one score to the work file (flushed, so an interrupted run keeps it)."""
    new = not path.is_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if new:
            writer.writerow(["index", "arch", "score", "seconds"])
        writer.writerow([index, SSS.format(index), repr(score), f"{seconds:.4f}"])
        handle.flush()
