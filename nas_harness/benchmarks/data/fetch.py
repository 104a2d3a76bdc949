"""Download the pinned public exports, verify their sha256, and build the table.

Each file is streamed into a temporary file next to its destination, hashed while it
downloads, and renamed into place only when its sha256 matches the manifest; a corrupted
download is deleted and reported, so the cache never holds a half-written or wrong file.
Files already present with the right hash are not downloaded again.

URLs are pinned to upstream commits (``nas_harness.benchmarks.data.sources``). ``base_url`` (or the
``NAS_HARNESS_FETCH_BASE`` environment variable) replaces ``https://raw.githubusercontent.com``,
e.g. for a mirror; plain ``http`` is accepted only for loopback addresses (tests).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable
from pathlib import Path

from nas_harness.benchmarks.data.build_public import build_from_public_exports
from nas_harness.benchmarks.data.paths import ENV_FETCH_BASE, fetched_sources_dir
from nas_harness.benchmarks.data.sources import BY_PATH, DEFAULT_FETCH_BASE, FETCH_FILES, sha256_of
from nas_harness.benchmarks.data.store import save_table
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError
from nas_harness.benchmarks.table import BenchmarkTable

CHUNK = 1 << 16
TIMEOUT_S = 60


def fetch_base(base_url: str | None = None) -> str:
    """The URL base to fetch from: the argument, ``NAS_HARNESS_FETCH_BASE``, or GitHub raw."""
    base = base_url or os.environ.get(ENV_FETCH_BASE, "").strip() or DEFAULT_FETCH_BASE
    parsed = urllib.parse.urlparse(base)
    if parsed.scheme == "https" and parsed.hostname:
        return base.rstrip("/")
    if parsed.scheme == "http" and parsed.hostname and _is_loopback(parsed.hostname):
        return base.rstrip("/")
    raise DataNotFoundError(
        f"refusing to fetch from {base!r}: use an https URL (or http on a loopback address); "
        f"unset {ENV_FETCH_BASE} to use {DEFAULT_FETCH_BASE}"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _open(url: str):
    """Open ``url``; loopback URLs bypass any configured proxy (it could not reach them)."""
    host = urllib.parse.urlparse(url).hostname or ""
    if _is_loopback(host):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        return opener.open(url, timeout=TIMEOUT_S)
    return urllib.request.urlopen(url, timeout=TIMEOUT_S)


def _download(url: str, dest: Path, expected: str, progress: bool) -> None:
    """Stream ``url`` to ``dest`` via a temporary file; keep it only if the sha256 matches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex}.part")
    digest = hashlib.sha256()
    try:
        try:
            with _open(url) as response:
                total = int(response.headers.get("Content-Length") or 0) or None
                bar = None
                if progress:
                    from tqdm import tqdm

                    bar = tqdm(total=total, unit="B", unit_scale=True, desc=dest.name,
                               file=sys.stderr, leave=False)
                with open(tmp, "wb") as out:
                    while block := response.read(CHUNK):
                        out.write(block)
                        digest.update(block)
                        if bar is not None:
                            bar.update(len(block))
                if bar is not None:
                    bar.close()
        except (urllib.error.URLError, OSError) as exc:
            raise DataNotFoundError(
                f"could not download {url} ({exc}); check the network (or "
                f"{ENV_FETCH_BASE}) and re-run `nas-harness data fetch`"
            ) from None
        actual = digest.hexdigest()
        if actual != expected:
            raise DataIntegrityError(
                f"the download of {url} is corrupted: sha256 {actual}, expected {expected}; "
                "it was deleted. Re-run `nas-harness data fetch` (a mirror set through "
                f"{ENV_FETCH_BASE} may serve the wrong file)"
            )
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def fetch_sources(dest_dir: str | Path | None = None, base_url: str | None = None,
                  progress: bool = True, files: Iterable[str] = FETCH_FILES) -> dict[str, str]:
    """Download the pinned files into ``dest_dir`` (default: the cache's ``sources/``).

    Returns:
        ``{relpath: sha256}`` of every file now present and verified.
    """
    base = fetch_base(base_url)
    root = Path(dest_dir) if dest_dir is not None else fetched_sources_dir()
    done: dict[str, str] = {}
    for rel in files:
        source = BY_PATH[rel]
        dest = root / rel
        if dest.is_file() and sha256_of(dest) == source.sha256:
            done[rel] = source.sha256
            continue
        _download(source.url(base), dest, source.sha256, progress)
        done[rel] = source.sha256
    return done


def fetch(dest_dir: str | Path | None = None, base_urls: str | None = None,
          progress: bool = True, cache: str | Path | None = None) -> BenchmarkTable:
    """Download and verify the public exports, then build and cache the table.

    Args:
        dest_dir: where the source files go (default: ``<cache>/sources``).
        base_urls: URL base replacing ``https://raw.githubusercontent.com`` (default:
            ``NAS_HARNESS_FETCH_BASE`` or GitHub).
        progress: show tqdm download bars on stderr.
        cache: the cache directory for the built table (default: ``NAS_HARNESS_CACHE``).

    Returns:
        The built table (saved to the cache, checksum set).
    """
    root = Path(dest_dir) if dest_dir is not None else fetched_sources_dir(cache)
    fetch_sources(root, base_urls, progress)
    table = build_from_public_exports(root)
    return save_table(table, cache, source_dir=root)
