"""Exact closed-form FLOPs and parameter counts of NATS-Bench size-search-space networks.

NATS-Bench reports ``flops`` (MFLOPs) and ``params`` only for architectures whose raw records
ship; this module reproduces both numbers for all 32,768 channel configurations in a few
vectorised numpy operations, so constraint-aware protocols never need torch or xautodl.

Network (read from xautodl 1.0.0 ``models/shape_infers/InferTinyCellNet.py``
``DynamicShapeTinyNet``, built by ``models/__init__.py`` ``get_cell_based_tiny_net`` for the
config ``{'name': 'infer.shape.tiny', 'channels': 'c0:c1:c2:c3:c4', ...}`` that
``nats_bench`` ``api_utils.py`` ``get_net_config`` returns). With five channel values
``N = 5 // 3 = 1`` cell per stage and ``layer_reductions = [F, T, F, T, F]``:

* stem: ``Conv2d(3, c0, 3, padding=1, bias=False)`` + ``BatchNorm2d(c0)``, at ``H x H``;
* layer 0: ``InferCell(genotype, c0, c0, stride=1)`` at ``H``;
* layer 1: ``ResNetBasicblock(c0, c1, stride=2)``, output at ``H/2``;
* layer 2: ``InferCell(genotype, c1, c2, 1)`` at ``H/2``;
* layer 3: ``ResNetBasicblock(c2, c3, 2)``, output at ``H/4``;
* layer 4: ``InferCell(genotype, c3, c4, 1)`` at ``H/4``;
* ``BatchNorm2d(c4)`` + ReLU, ``AdaptiveAvgPool2d(1)``, ``Linear(c4, num_classes)`` with bias.

So ``c0`` feeds the stem and the first cell, ``c1``/``c3`` are the residual (reduction)
blocks, ``c2``/``c4`` the cells of stages 2 and 3.

The fixed genotype (from the official records' ``arch_config``) is
``|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|``.
``models/cell_infers/cells.py`` ``InferCell`` builds edges from node 0 as ``C_in -> C_out``
and the others as ``C_out -> C_out`` (``models/cell_operations.py``): each cell has two
``ReLUConvBN`` 3x3 convs ``C_in -> C_out``, three 3x3 convs ``C_out -> C_out`` and one
``skip_connect``, which is ``Identity`` when ``C_in == C_out`` and otherwise a stride-1
``FactorizedReduce`` (1x1 conv ``C_in -> C_out`` + ``BatchNorm2d``). ``ReLUConvBN`` uses
``bias=not affine`` with ``affine=True``, so no conv bias; every ``BatchNorm2d`` is affine
(2 parameters per channel; running statistics are buffers, not parameters).
``ResNetBasicblock(inplanes, planes, 2)`` = ``ReLUConvBN`` 3x3 stride 2 ``inplanes -> planes``,
``ReLUConvBN`` 3x3 ``planes -> planes``, and a downsample ``AvgPool2d(2, 2)`` + 1x1
``Conv2d(inplanes, planes, bias=False)`` applied at the reduced resolution.

Counting rules (xautodl ``utils/flop_benchmark.py``, ``get_model_infos``):

* params = the sum of ``numel`` over ``model.parameters()`` (reported by NATS-Bench in M);
* FLOPs = ``compute_average_flops_cost / 1e6``, which sums only ``Conv2d``/``Conv1d``/
  ``Linear`` hooks: a conv counts ``k*k*C_in*C_out/groups`` per output pixel (plus
  ``C_out`` per pixel with bias), a linear ``in*out`` plus ``out`` for its bias. Pooling,
  BatchNorm, ReLU and additions are not counted (the pool hook's total is never summed).

The FLOP count is therefore an integer; ``count_flops`` returns it divided by ``1e6``, which
is bit-identical to the values the official API returns for the sample records.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nas_harness.benchmarks.datasets import DATASETS, DatasetSpec, get_dataset
from nas_harness.benchmarks.errors import InvalidArchitectureError, UnknownNameError

NUM_CHANNELS = 5
"""Number of channel values that describe one SSS network."""

_CONV3 = 9  # weights per (input channel, output channel) pair of a 3x3 conv
_STEM_IN = 3  # RGB input


def _as_channels(channels: np.ndarray | Sequence[int]) -> np.ndarray:
    arr = np.asarray(channels)
    if arr.ndim == 0 or arr.shape[-1] != NUM_CHANNELS:
        raise InvalidArchitectureError(
            f"expected {NUM_CHANNELS} channel values per architecture (shape (n, 5) or (5,)), "
            f"got shape {arr.shape}; pass nas_harness.benchmarks.space.SSS.channels(indices)"
        )
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        else:
            raise InvalidArchitectureError(f"channel counts must be integers, got {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and arr.min() < 1:
        raise InvalidArchitectureError("channel counts must be positive integers")
    return arr


def _check_num_classes(num_classes: int) -> int:
    if int(num_classes) != num_classes or num_classes < 1:
        raise InvalidArchitectureError(
            f"num_classes must be a positive integer, got {num_classes!r}"
        )
    return int(num_classes)


def _cell_weights(c_in: np.ndarray, c_out: np.ndarray) -> np.ndarray:
    """Conv weights of one InferCell with the fixed genotype (= its MACs per output pixel)."""
    skip = np.where(c_in != c_out, c_in * c_out, 0)  # FactorizedReduce 1x1 conv, else Identity
    return 2 * _CONV3 * c_in * c_out + 3 * _CONV3 * c_out * c_out + skip


def _cell_bn(c_in: np.ndarray, c_out: np.ndarray) -> np.ndarray:
    """Affine BatchNorm parameters of one InferCell: 5 conv BNs (+1 for FactorizedReduce)."""
    return 2 * c_out * (5 + (c_in != c_out))


def _resblock_weights(c_in: np.ndarray, c_out: np.ndarray) -> np.ndarray:
    """Conv weights of a stride-2 ResNetBasicblock (= its MACs per output pixel)."""
    return _CONV3 * c_in * c_out + _CONV3 * c_out * c_out + c_in * c_out


def count_flops(
    channels: np.ndarray | Sequence[int], num_classes: int, input_size: int
) -> np.ndarray | float:
    """FLOPs in millions, exactly as NATS-Bench's ``get_cost_info(...)['flops']`` reports them.

    Args:
        channels: ``(n, 5)`` (or ``(5,)``) channel counts, e.g. ``SSS.channels(indices)``.
        num_classes: width of the linear classifier.
        input_size: side of the square input image (32 for CIFAR, 16 for ImageNet16-120);
            it must be a multiple of 4, otherwise the real network cannot add its residuals.

    Returns:
        A float64 array of shape ``(n,)``, or a float for a single architecture.
    """
    arr = _as_channels(channels)
    k = _check_num_classes(num_classes)
    if int(input_size) != input_size or input_size < 4 or input_size % 4:
        raise InvalidArchitectureError(
            f"input_size must be a positive multiple of 4 (two stride-2 reductions), "
            f"got {input_size!r}"
        )
    c0, c1, c2, c3, c4 = (arr[..., i] for i in range(NUM_CHANNELS))
    p1 = int(input_size) ** 2  # pixels at full resolution
    p2 = p1 // 4  # after the first reduction
    p3 = p2 // 4  # after the second reduction
    flops = (
        _CONV3 * _STEM_IN * c0 * p1
        + _cell_weights(c0, c0) * p1
        + _resblock_weights(c0, c1) * p2
        + _cell_weights(c1, c2) * p2
        + _resblock_weights(c2, c3) * p3
        + _cell_weights(c3, c4) * p3
        + c4 * k
        + k
    )
    result = flops / 1e6
    return float(result) if arr.ndim == 1 else result


def count_params(channels: np.ndarray | Sequence[int], num_classes: int) -> np.ndarray | int:
    """Number of trainable parameters (an integer, not millions) of each network.

    Args:
        channels: ``(n, 5)`` (or ``(5,)``) channel counts, e.g. ``SSS.channels(indices)``.
        num_classes: width of the linear classifier.

    Returns:
        An int64 array of shape ``(n,)``, or an int for a single architecture.
    """
    arr = _as_channels(channels)
    k = _check_num_classes(num_classes)
    c0, c1, c2, c3, c4 = (arr[..., i] for i in range(NUM_CHANNELS))
    params = (
        _CONV3 * _STEM_IN * c0 + 2 * c0  # stem conv + BN
        + _cell_weights(c0, c0) + _cell_bn(c0, c0)
        + _resblock_weights(c0, c1) + 2 * 2 * c1  # two ReLUConvBN BNs
        + _cell_weights(c1, c2) + _cell_bn(c1, c2)
        + _resblock_weights(c2, c3) + 2 * 2 * c3
        + _cell_weights(c3, c4) + _cell_bn(c3, c4)
        + 2 * c4  # lastact BN
        + c4 * k + k  # classifier
    )
    result = params.astype(np.int64)
    return int(result) if arr.ndim == 1 else result


def _spec_of(dataset: str) -> DatasetSpec:
    """A dataset spec from a harness name/alias or a NATS-Bench key such as ``cifar10-valid``."""
    try:
        return get_dataset(dataset)
    except UnknownNameError:
        for spec in DATASETS.values():
            if dataset in (spec.valid_split, spec.test_split):
                return spec
        raise


def dataset_costs(
    channels: np.ndarray | Sequence[int], dataset: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(flops_M, params)`` of the networks as trained on ``dataset``.

    The dataset fixes the classifier width and the input resolution; NATS-Bench keys such as
    ``cifar10-valid`` are accepted and cost the same as their base dataset.
    """
    spec = _spec_of(dataset)
    flops = np.asarray(count_flops(channels, spec.num_classes, spec.input_size))
    params = np.asarray(count_params(channels, spec.num_classes))
    return flops, params
