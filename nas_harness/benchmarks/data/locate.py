"""Where a command's benchmark data comes from, and what to say when it is not there.

The source directory is ``data_dir`` when given, else ``NAS_HARNESS_DATA``, else the sources
``nas-harness data fetch`` downloaded into the cache.
"""

from __future__ import annotations

from pathlib import Path

from nas_harness.benchmarks.data.paths import (
    ENV_DATA,
    env_data_dir,
    fetched_sources_dir,
    table_files,
)
from nas_harness.benchmarks.data.sources import has_public_exports
from nas_harness.benchmarks.errors import DataNotFoundError

HOW_TO_GET_DATA = (
    "get the benchmark data in one of three ways: `nas-harness data fetch` (downloads the "
    "pinned public exports, ~9 MB, and builds the table), or "
    f"`export {ENV_DATA}=/path/to/natsbench_sss` (a directory with monet/ and "
    "lightonai_contrastive_embeddings/), or `nas-harness data build --from DIR`"
)


def missing_table_hint() -> str:
    """How to get a table, for the data this process can see (the env variable may be set)."""
    data = env_data_dir()
    if data is not None:
        return (f"{ENV_DATA} is set ({data}): build the table from it with `nas-harness data "
                f"build --from {data}` (any command needing the table also builds it)")
    return HOW_TO_GET_DATA


def resolve_source_dir(data_dir: str | Path | None = None,
                       cache: str | Path | None = None) -> Path | None:
    """Where raw sources are: ``data_dir``, ``NAS_HARNESS_DATA``, or the fetched sources."""
    explicit = Path(data_dir).expanduser() if data_dir is not None else env_data_dir()
    if explicit is not None:
        if not explicit.is_dir():
            if data_dir is not None:
                raise DataNotFoundError(f"data_dir={explicit} is not a directory; "
                                        f"{HOW_TO_GET_DATA}")
            raise DataNotFoundError(_stale_env_data(explicit, cache))
        return explicit
    fetched = fetched_sources_dir(cache)
    return fetched if has_public_exports(fetched) else None


def _stale_env_data(value: Path, cache: str | Path | None) -> str:
    """The fix for ``NAS_HARNESS_DATA`` naming no directory: the variable is the problem.

    A set variable is a choice of data, so it is not overridden by the cache, even a good
    one: the run would use another table than the one asked for. The message says that a
    cached table is there and that unsetting the variable uses it.
    """
    parquet, sidecar = table_files(cache)
    if parquet.is_file() and sidecar.is_file():
        return (f"{ENV_DATA}={value} is not a directory, so the cached table in {parquet.parent}"
                f" is not used either; `unset {ENV_DATA}` to use that table, or point "
                f"{ENV_DATA} at a natsbench_sss directory")
    return (f"{ENV_DATA}={value} is not a directory; point {ENV_DATA} at a natsbench_sss "
            f"directory or `unset {ENV_DATA}`, then {HOW_TO_GET_DATA}")
