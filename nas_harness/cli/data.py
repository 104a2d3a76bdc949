"""``nas-harness data fetch | build | info``: get the benchmark data and see what is loaded.

* ``data fetch`` downloads the pinned public exports (sha256-checked) and builds the table;
* ``data build --from PATH`` builds from a ``natsbench_sss`` directory of public exports or
  from an official NATS-Bench archive (directory or ``.tar``, detected), reading records in
  parallel (``--workers``), ``--allow-partial`` for an incomplete one;
* ``data info`` says where the cached table is, what it was built from and what it holds.
"""

from __future__ import annotations

import sys
from typing import Any


def add_commands(subparsers: Any) -> None:
    """Register ``data`` and its sub-commands."""
    data = subparsers.add_parser(
        "data", help="fetch, build or inspect the benchmark table",
        description="Get the NATS-Bench SSS data and build the cached benchmark table.")
    sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    data.set_defaults(handler=lambda args: _help(data))

    fetch = sub.add_parser(
        "fetch", help="download the pinned public exports (~9 MB) and build the table",
        description="Download the public per-architecture exports at pinned commits, verify "
                    "their sha256 and build the table in the cache (NAS_HARNESS_CACHE).")
    fetch.add_argument("--base-url", default=None, metavar="URL",
                       help="mirror replacing https://raw.githubusercontent.com "
                            "(default: NAS_HARNESS_FETCH_BASE or GitHub)")
    fetch.add_argument("--no-progress", action="store_true", help="no download progress bars")
    fetch.set_defaults(handler=_fetch)

    build = sub.add_parser(
        "build", help="build the table from a data directory or an official archive",
        description="Build the benchmark table from DIR and store it in the cache. DIR is a "
                    "natsbench_sss directory with the public exports (monet/, "
                    "lightonai_contrastive_embeddings/) or an official NATS-Bench SSS archive "
                    "(NATS-sss-v1_0-50262-simple/ with meta.pickle.pbz2, the "
                    "NATS-sss-v1_0-50262-simple.tar itself (read in place, not unpacked), or "
                    "the .pickle.pbz2 file); the kind is detected.")
    build.add_argument("--from", dest="source", required=True, metavar="PATH",
                       help="data directory, official archive directory or its .tar")
    build.add_argument("--allow-partial", action="store_true",
                       help="accept an official archive without all 32,768 architectures "
                            "(its missing rows are unavailable)")
    build.add_argument("--no-progress", action="store_true",
                       help="no progress bar while reading official records")
    build.add_argument("--workers", type=int, default=None, metavar="N",
                       help="processes reading official records (default: all cores)")
    build.set_defaults(handler=_build)

    info = sub.add_parser("info", help="where the table is, its sources, checksums and contents")
    info.set_defaults(handler=_info)


def _help(parser: Any) -> int:
    parser.print_help()
    return 2


def _fetch(args: Any) -> int:
    from nas_harness.benchmarks.data.fetch import fetch

    table = fetch(base_urls=args.base_url, progress=not args.no_progress)
    print(f"fetched and built the table ({table.provenance.builder}, checksum "
          f"{table.provenance.checksum[:16]}...)")
    return _info(args)


def _build(args: Any) -> int:
    from nas_harness.benchmarks.data.store import build_from_dir, save_table
    from nas_harness.benchmarks.errors import ProtocolError

    if args.workers is not None and args.workers < 1:
        raise ProtocolError(f"--workers must be a positive integer, got {args.workers}")
    table = build_from_dir(args.source, allow_partial=args.allow_partial,
                           progress=not args.no_progress and sys.stderr.isatty(),
                           workers=args.workers)
    table = save_table(table, source_dir=args.source)
    kind = "partial " if table.provenance.partial else ""
    kind += "SYNTHETIC " if table.provenance.synthetic else ""
    print(f"built a {kind}table from {args.source} ({table.provenance.builder})")
    if table.provenance.partial:
        print("note: runs now use this partial table (unavailable architectures cannot be "
              "queried); `nas-harness data build --from DIR` with full data replaces it")
    return _info(args)


def _info(args: Any) -> int:
    from nas_harness.benchmarks.data.paths import env_data_dir, fetched_sources_dir, table_files
    from nas_harness.benchmarks.data.sources import sha256_of
    from nas_harness.benchmarks.data.store import missing_table_hint, read_sidecar
    from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError

    parquet, sidecar = table_files()
    meta = read_sidecar()
    print(f"cache:        {parquet.parent.parent}")
    print(f"NAS_HARNESS_DATA: {env_data_dir() or '(unset)'}")
    fetched = fetched_sources_dir()
    print(f"fetched sources: {fetched if fetched.is_dir() else '(none)'}")
    if meta is None or not parquet.is_file():
        raise DataNotFoundError(f"no built table in {parquet.parent}; {missing_table_hint()}")
    actual = sha256_of(parquet)
    status = "ok" if actual == meta["checksum"] else f"MISMATCH (file is {actual})"
    print(f"table:        {parquet}")
    print(f"sidecar:      {sidecar}")
    print(f"checksum:     {meta['checksum']} [{status}]")
    print(f"builder:      {meta['builder']}{' (PARTIAL)' if meta['partial'] else ''}"
          f"{' (SYNTHETIC)' if meta.get('synthetic') else ''}")
    if meta.get("synthetic"):
        print("SYNTHETIC:    generated hp=12 accuracies and times, for tests and timing only; "
              "`reproduce` refuses this table without --allow-synthetic")
    print(f"built from:   {meta.get('source_dir') or '(unknown)'}")
    print("sources:")
    for rel, sha in meta["sources"].items():
        print(f"  {sha}  {rel}")
    print("datasets:")
    for name, d in meta["datasets"].items():
        fids = ", ".join(f"hp={f}" for f in d["fidelities"])
        print(f"  {name:<15} rows {d['rows']:>6}  available {d['available']:>6}  "
              f"fidelities {fids}")
    if actual != meta["checksum"]:
        raise DataIntegrityError(
            f"the cached table {parquet} does not match its recorded checksum; rebuild it with "
            "`nas-harness data build --from DIR` (or `nas-harness data fetch`)")
    return 0
