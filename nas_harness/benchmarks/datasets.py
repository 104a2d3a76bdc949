"""The three NATS-Bench datasets and the facts the cost model and the table need about them."""

from __future__ import annotations

from dataclasses import dataclass

from nas_harness.benchmarks.errors import UnknownNameError


@dataclass(frozen=True)
class DatasetSpec:
    """A benchmark dataset: its canonical name, classifier width and input resolution.

    ``valid_split`` is the NATS-Bench dataset key whose ``x-valid`` accuracy is the search
    signal (for CIFAR-10 the model trained on the 25k train half, ``cifar10-valid``);
    ``test_split`` is the key whose test accuracy is reported.
    """

    name: str
    num_classes: int
    input_size: int
    valid_split: str
    test_split: str
    label: str


DATASETS: dict[str, DatasetSpec] = {
    "cifar10": DatasetSpec("cifar10", 10, 32, "cifar10-valid", "cifar10", "CIFAR-10"),
    "cifar100": DatasetSpec("cifar100", 100, 32, "cifar100", "cifar100", "CIFAR-100"),
    "ImageNet16-120": DatasetSpec(
        "ImageNet16-120", 120, 16, "ImageNet16-120", "ImageNet16-120", "ImageNet16-120"
    ),
}
DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)

_ALIASES = {
    name.lower().replace("-", "").replace("_", ""): name for name in DATASETS
} | {"imagenet": "ImageNet16-120", "imagenet16": "ImageNet16-120", "c10": "cifar10",
     "c100": "cifar100", "in16": "ImageNet16-120"}


def get_dataset(name: str) -> DatasetSpec:
    """The spec of a dataset given by its canonical name or a common alias (case-insensitive)."""
    key = str(name).lower().replace("-", "").replace("_", "")
    if key in _ALIASES:
        return DATASETS[_ALIASES[key]]
    raise UnknownNameError(
        f"unknown dataset {name!r}; choose one of: {', '.join(DATASET_NAMES)}"
    )
