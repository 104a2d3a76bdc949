"""Shared fixtures: the data directory, the full benchmark table, a loopback mirror server.

Tests that need the NATS-Bench data skip with a clear reason when it is absent; set
``NAS_HARNESS_DATA`` to the ``natsbench_sss`` directory (default: ``../shared/data/...``
next to the repository).
"""

from __future__ import annotations

import atexit
import functools
import http.server
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "natsbench_sss"
SAMPLE = "official_nats_bench_sample/NATS-sss-v1_0-50262-simple"


def _default_environment() -> None:
    """Point the harness at the data beside the repository and at a throwaway cache.

    So the README's plain ``pytest`` runs the data-backed tests too (as CI does), and a test
    session never writes a table into the user's own cache.
    """
    if not os.environ.get("NAS_HARNESS_DATA", "").strip() and DEFAULT_DATA.is_dir():
        os.environ["NAS_HARNESS_DATA"] = str(DEFAULT_DATA)
    if not os.environ.get("NAS_HARNESS_CACHE", "").strip():
        cache = tempfile.mkdtemp(prefix="nas-harness-test-cache-")
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
        os.environ["NAS_HARNESS_CACHE"] = cache


_default_environment()


def _hypothesis_profiles() -> None:
    """Derandomized property tests: the same examples every run, no example database.

    So CI and the mutation score are reproducible; ``HYPOTHESIS_PROFILE=mutation`` (set by
    tools/mutation.py) runs fewer examples per test, as every mutant reruns them.
    """
    try:
        from hypothesis import settings
    except ImportError:  # the test extra brings it; without it those tests fail to import
        return
    settings.register_profile("default", derandomize=True, database=None, deadline=None,
                              max_examples=50)
    settings.register_profile("mutation", settings.get_profile("default"), max_examples=20)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


_hypothesis_profiles()


def _data_dir() -> Path:
    value = os.environ.get("NAS_HARNESS_DATA", "").strip()
    return Path(value) if value else DEFAULT_DATA


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The natsbench_sss directory with the public exports (skips when absent)."""
    from nas_harness.benchmarks.data.sources import PUBLIC_FILES, has_public_exports

    root = _data_dir()
    if not has_public_exports(root):
        pytest.skip(f"NATS-Bench data not found under {root} (need {', '.join(PUBLIC_FILES)}); "
                    "set NAS_HARNESS_DATA to the natsbench_sss directory")
    return root


@pytest.fixture(scope="session")
def official_dir(data_dir: Path) -> Path:
    """The official 3-architecture sample archive (skips when absent)."""
    path = data_dir / SAMPLE
    if not (path / "meta.pickle.pbz2").is_file():
        pytest.skip(f"official NATS-Bench sample not found under {path}")
    return path


@pytest.fixture(scope="session")
def table(data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The full BenchmarkTable built from the data directory (cached in a session tmp dir)."""
    from nas_harness.benchmarks.data.store import load_table

    return load_table(data_dir, tmp_path_factory.mktemp("nas-harness-cache"))


def copy_tree(src: Path, dest: Path) -> Path:
    """A writable copy of ``src`` (the shared data is read-only)."""
    shutil.copytree(src, dest)
    for path in dest.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return dest


def flip_byte(path: Path, offset: int = -10) -> None:
    """Corrupt a file by flipping one byte (counted from the end when negative)."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def data_copy(data_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the data directory (public exports + official sample)."""
    return copy_tree(data_dir, tmp_path / "natsbench_sss")


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def mirror(data_dir: Path, tmp_path: Path) -> Iterator[dict]:
    """An HTTP server on 127.0.0.1 serving the fetch files at their pinned URL paths.

    Yields ``{"base": url, "root": mirror dir, "requests": paths served, "path": relpath ->
    mirrored file}``; only a loopback address is ever used.
    """
    from nas_harness.benchmarks.data.sources import BY_PATH, FETCH_FILES

    root = tmp_path / "mirror"
    paths = {}
    for rel in FETCH_FILES:
        src = BY_PATH[rel]
        dest = root / src.owner / src.repo / src.commit / src.upstream_path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir / rel, dest)
        paths[rel] = dest
    requests: list[str] = []
    handler = type("Handler", (_Handler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield {"base": f"http://{host}:{port}", "root": root, "requests": requests,
               "path": paths}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
