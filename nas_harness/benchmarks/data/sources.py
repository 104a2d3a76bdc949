"""The manifest of the public source files: where each is pinned upstream and its sha256.

Every number in the benchmark table comes from one of these files. The hashes are the ones
recorded in the data directory's ``SOURCE.md``; the URLs point at the exact upstream commit
(``raw.githubusercontent.com/<owner>/<repo>/<commit>/<path>``) so a fetch today returns the
same bytes as the snapshot the hashes were taken from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError

DEFAULT_FETCH_BASE = "https://raw.githubusercontent.com"
FIX_HINT = (
    "re-run `nas-harness data fetch` (or restore the file from its pinned URL), or point "
    "NAS_HARNESS_DATA at an intact copy of the natsbench_sss directory"
)

MONET = ("vilhess", "MONET", "336647a5dadb6e716f87eb05e493f8174973bc80", "benchmark_scores")
LIGHTON = ("lightonai", "contrastive-embeddings-for-neural-architectures",
           "8606a4a4d7ea9ed9c01964660e8b2afb1e003480", "SearchSpaces/BenchNatsss")
NATS = ("D-X-Y", "NATS-Bench", "1d4a304ad1906aa5866563438fcbf0d624b7eda2",
        "fake_torch_dir/NATS-sss-v1_0-50262-simple")

OFFICIAL_SAMPLE_DIR = "official_nats_bench_sample/NATS-sss-v1_0-50262-simple"
META_FILE = f"{OFFICIAL_SAMPLE_DIR}/meta.pickle.pbz2"


@dataclass(frozen=True)
class SourceFile:
    """One pinned file: its path under the data directory, its hash and its upstream home.

    ``required`` files are needed to build the table from the public exports; the others are
    used for extra checks (the official ``meta_archs`` order) or as ground truth in tests.
    """

    relpath: str
    sha256: str
    owner: str
    repo: str
    commit: str
    upstream_path: str
    required: bool = True

    def url(self, base: str = DEFAULT_FETCH_BASE) -> str:
        """The pinned download URL (``base`` replaces ``https://raw.githubusercontent.com``)."""
        return f"{base.rstrip('/')}/{self.owner}/{self.repo}/{self.commit}/{self.upstream_path}"


def _file(relpath: str, sha256: str, pin: tuple[str, str, str, str], name: str,
          required: bool = True) -> SourceFile:
    owner, repo, commit, folder = pin
    return SourceFile(relpath, sha256, owner, repo, commit, f"{folder}/{name}", required)


MANIFEST: tuple[SourceFile, ...] = (
    _file("monet/Cifar10-NATS.csv",
          "96983219294bc264d01df9534deba04e99a0acddc337e4651c72cee6799322db",
          MONET, "Cifar10-NATS.csv"),
    _file("monet/Cifar100-NATS.csv",
          "ca6f73356f2deabf9ab919e320a63e4ffa2c91a110e08abf9bf49062fe6de806",
          MONET, "Cifar100-NATS.csv"),
    _file("monet/ImageNet-NATS.csv",
          "8a0cfdfa164ba6718789c9dc900a6aefa7965282586aff8a7de9768e5ff2af64",
          MONET, "ImageNet-NATS.csv"),
    _file("lightonai_contrastive_embeddings/arch_strings.npy",
          "810ffb6d4bbfcdd3a42ffd6b3d39daca53110260715ccd89e63eb3636519ee0a",
          LIGHTON, "arch_strings.npy"),
    _file("lightonai_contrastive_embeddings/cifar10_accs.npy",
          "fb28ab473ad084d0360626c58f750e92e237ac4fe253e5a2cc42bab8c9c6c745",
          LIGHTON, "cifar10_accs.npy"),
    _file("lightonai_contrastive_embeddings/cifar100_accs.npy",
          "10669ea2ccd27c5532503ea4ca98eff1ea60ae400596232af52780db6cabccca",
          LIGHTON, "cifar100_accs.npy"),
    _file("lightonai_contrastive_embeddings/ImageNet16-120.npy",
          "1902b051be94e395e3349c617d5c904220b2d5cb32e5bc6d43aac2a82b6db7bb",
          LIGHTON, "ImageNet16-120.npy"),
    _file(META_FILE,
          "63abccf2cfd42604a24c270aafb1faa56fbdaf1418368af82346750642c45383",
          NATS, "meta.pickle.pbz2", required=False),
    _file(f"{OFFICIAL_SAMPLE_DIR}/000000.pickle.pbz2",
          "76265ad39ba47dcef1b754872370336158d430c0d869ab2f752dadf684bea378",
          NATS, "000000.pickle.pbz2", required=False),
    _file(f"{OFFICIAL_SAMPLE_DIR}/000011.pickle.pbz2",
          "0b267775cbff4841dac9769ebab098d2b70e56d58e393eeb5968e8db57be9e5a",
          NATS, "000011.pickle.pbz2", required=False),
    _file(f"{OFFICIAL_SAMPLE_DIR}/000284.pickle.pbz2",
          "3918e488313ef21991e870af1d104f35a6b1d41ba994e8585af2b0c544869b8d",
          NATS, "000284.pickle.pbz2", required=False),
)
BY_PATH: dict[str, SourceFile] = {f.relpath: f for f in MANIFEST}

# Which file holds which column, per dataset (keys: canonical dataset names).
MONET_CSV: dict[str, str] = {
    "cifar10": "monet/Cifar10-NATS.csv",
    "cifar100": "monet/Cifar100-NATS.csv",
    "ImageNet16-120": "monet/ImageNet-NATS.csv",
}
LIGHTON_VALID: dict[str, str] = {
    "cifar10": "lightonai_contrastive_embeddings/cifar10_accs.npy",
    "cifar100": "lightonai_contrastive_embeddings/cifar100_accs.npy",
    "ImageNet16-120": "lightonai_contrastive_embeddings/ImageNet16-120.npy",
}
ARCH_STRINGS = "lightonai_contrastive_embeddings/arch_strings.npy"
PUBLIC_FILES: tuple[str, ...] = tuple(f.relpath for f in MANIFEST if f.required)
"""The files the public-export build needs."""
FETCH_FILES: tuple[str, ...] = (*PUBLIC_FILES, META_FILE)
"""What ``nas-harness data fetch`` downloads: the public exports plus the official meta list."""


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_file(relpath: str, path: str | Path) -> str:
    """The sha256 of ``path`` after checking it against the manifest entry ``relpath``."""
    expected = BY_PATH[relpath].sha256
    actual = sha256_of(path)
    if actual != expected:
        raise DataIntegrityError(
            f"{path}: sha256 mismatch for {relpath} (expected {expected}, got {actual}); "
            f"the file is corrupted or not the pinned version: {FIX_HINT}"
        )
    return actual


def verify(data_dir: str | Path, files: Iterable[str] | None = None) -> dict[str, str]:
    """Check the source files under ``data_dir`` against the manifest.

    Args:
        data_dir: the ``natsbench_sss`` directory (layout as in the manifest's ``relpath``).
        files: relpaths to check (default: every required file plus each optional file that
            is present).

    Returns:
        ``{relpath: sha256}`` of every file checked.

    Raises:
        DataNotFoundError: a required (or explicitly requested) file is missing.
        DataIntegrityError: a file's sha256 differs from the manifest.
    """
    root = Path(data_dir)
    wanted = list(files) if files is not None else [
        f.relpath for f in MANIFEST if f.required or (root / f.relpath).is_file()
    ]
    unknown = [rel for rel in wanted if rel not in BY_PATH]
    if unknown:
        raise DataNotFoundError(f"not in the source manifest: {', '.join(unknown)}")
    missing = [rel for rel in wanted if not (root / rel).is_file()]
    if missing:
        raise DataNotFoundError(
            f"{root} lacks {len(missing)} source file(s): {', '.join(missing)}; run "
            "`nas-harness data fetch`, or `export NAS_HARNESS_DATA=/path/to/natsbench_sss`"
        )
    return {rel: check_file(rel, root / rel) for rel in wanted}


def has_public_exports(data_dir: str | Path) -> bool:
    """Whether ``data_dir`` holds every file the public-export build needs."""
    root = Path(data_dir)
    return all((root / rel).is_file() for rel in PUBLIC_FILES)
