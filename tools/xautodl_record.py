"""Record what the real xautodl networks give: FLOPs and parameters for a spread of architectures.

Builds each network with xautodl's ``get_cell_based_tiny_net`` (the constructor NATS-Bench's
API uses for the size search space), counts its parameters and runs xautodl's own
``get_model_infos`` FLOP counter, on each of the three datasets, and writes the numbers with
the torch and xautodl versions to ``tests/test_benchmarks/xautodl_costs.json``. The record is
derived from the network structure only (no benchmark data), so it is committed; the CI test
``tests/test_benchmarks/test_cost_model_record.py`` holds ``nas_harness/benchmarks/cost_model.py``
to it
where torch is not installed.

Usage (torch and xautodl are not dependencies of the harness)::

    pip install torch && pip install --no-deps xautodl
    python tools/xautodl_record.py            # rewrites the record
    python tools/xautodl_record.py --check    # compares with the committed record
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "tests" / "test_benchmarks" / "xautodl_costs.json"
# The fixed cell of every SSS network, as stored in the official records' arch_config.
GENOTYPE = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
            "+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
# NATS-Bench's classifier width and input side per dataset (ImageNet16-120: 16x16 images).
SHAPES = {"cifar10": (10, 32), "cifar100": (100, 32), "ImageNet16-120": (120, 16)}
SPREAD_SEED = 20240601  # fixed: the spread of architectures never changes between runs
SPREAD_SIZE = 40


def architectures() -> list[int]:
    """Corners, every single-layer change from the smallest and largest, and a random spread."""
    from nas_harness.benchmarks.space import SSS

    chosen = {0, SSS.size - 1, 11, 284, 9421, 20000}
    options = SSS.options
    for layer in range(SSS.num_layers):
        for corner in (0, len(options[layer]) - 1):
            for pos in range(len(options[layer])):
                positions = np.full(SSS.num_layers, corner)
                positions[layer] = pos
                chosen.add(int(SSS.from_positions(positions)))
    rng = np.random.default_rng(SPREAD_SEED)
    chosen.update(int(i) for i in rng.choice(SSS.size, SPREAD_SIZE, replace=False))
    return sorted(chosen)


def measure(indices: list[int]) -> list[dict[str, object]]:
    """Params and FLOPs of the real network for every index and dataset."""
    import torch
    from xautodl.models import get_cell_based_tiny_net
    from xautodl.utils.flop_benchmark import get_model_infos

    from nas_harness.benchmarks.space import SSS

    torch.manual_seed(0)
    rows: list[dict[str, object]] = []
    for dataset, (num_classes, size) in SHAPES.items():
        for index in indices:
            channels = [int(c) for c in SSS.channels(index)]
            net = get_cell_based_tiny_net({
                "name": "infer.shape.tiny", "channels": ":".join(map(str, channels)),
                "genotype": GENOTYPE, "num_classes": num_classes})
            params = sum(p.numel() for p in net.parameters())
            flops_m, params_m = get_model_infos(net, (1, 3, size, size))
            assert abs(params_m - params / 1e6) < 1e-9, "xautodl's two parameter counts differ"
            rows.append({"dataset": dataset, "index": index, "channels": channels,
                         "num_classes": num_classes, "input_size": size,
                         "params": int(params), "flops_m": float(flops_m)})
    return rows


def main(argv: list[str] | None = None) -> int:
    """Write (or ``--check``) the record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed record instead of writing it")
    parser.add_argument("--out", type=Path, default=RECORD)
    args = parser.parse_args(argv)
    indices = architectures()
    record = {
        "about": "FLOPs (M, xautodl get_model_infos) and parameter counts of the real "
                 "NATS-Bench size-search-space networks built by xautodl; derived from the "
                 "network structure only. Written by tools/xautodl_record.py.",
        "torch": version("torch"), "xautodl": version("xautodl"),
        "python": platform.python_version(), "genotype": GENOTYPE,
        "records": measure(indices),
    }
    if args.check:
        committed = json.loads(args.out.read_text())
        same = committed["records"] == record["records"]
        print(f"{len(record['records'])} networks: "
              f"{'identical to' if same else 'DIFFERENT from'} {args.out}")
        return 0 if same else 1
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {len(record['records'])} networks ({len(indices)} architectures x "
          f"{len(SHAPES)} datasets) to {args.out} (torch {record['torch']}, "
          f"xautodl {record['xautodl']})")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
