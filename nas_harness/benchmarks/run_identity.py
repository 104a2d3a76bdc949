"""The identity of a run in JSON: the sidecar's text, reading it back, its configuration.

The canonical text makes equal records equal bytes; a configuration is what a run shares
with every run of its kind (its identity less the run index).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def plain_json(value: Any) -> Any:
    """``value`` with numpy scalars as Python ones; a float32 as the decimal it was written as.

    ``float(np.float32(0.1))`` is ``0.10000000149011612``; the shortest text that round-trips
    the float32 (``str``) is ``0.1``, which is what the sidecar should say.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(str(value)) if value.dtype.itemsize < 8 else float(value)
    if isinstance(value, Mapping):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain_json(v) for v in value]
    return value


def sidecar_text(record: Mapping[str, Any]) -> str:
    """The canonical JSON text of a sidecar (sorted keys, so equal records are equal bytes)."""
    return json.dumps(plain_json(record), sort_keys=True, indent=1, allow_nan=False) + "\n"


CONFIGURATION_KEYS: tuple[str, ...] = (
    "algorithm", "algorithm_name", "params", "dataset", "protocol", "master_seed",
    "table_checksum",
)


def configuration_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a run shares with every run of its configuration: its identity less the run index.

    ``record`` is a sidecar (or :meth:`RunTask.identity`): label, registry name (a preset
    included), full parameters, dataset, protocol, master seed and table checksum. Two runs
    of one label and dataset belong together exactly when these are equal.
    """
    seed = record.get("seed")
    signals = record.get("signals_sha256")  # runs with free signals only
    return {
        **({} if signals is None else {"signals_sha256": plain_json(signals)}),
        "algorithm": record.get("algorithm"),
        "algorithm_name": record.get("algorithm_name", record.get("algorithm")),
        "params": plain_json(record.get("params") or {}),
        "dataset": record.get("dataset"),
        "protocol": plain_json(record.get("protocol") or {}),
        "master_seed": seed.get("entropy") if isinstance(seed, Mapping) else None,
        "table_checksum": record.get("table_checksum", ""),
    }


def configuration_key(config: Mapping[str, Any]) -> str:
    """A canonical text of a configuration (equal configurations, equal keys)."""
    return json.dumps(plain_json(config), sort_keys=True, separators=(",", ":"))


def _flat(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def describe_difference(stored: Mapping[str, Any], asked: Mapping[str, Any]) -> tuple[str, str]:
    """Both configurations by the fields that differ: ``("master_seed=0", "master_seed=5")``."""
    a, b = _flat(stored), _flat(asked)
    left, right = [], []
    for key in sorted(set(a) | set(b)):
        if key in a and key in b and a[key] == b[key]:
            continue  # (a missing key differs from any value, "<unset>" and None included)
        x, y = a.get(key, "<unset>"), b.get(key, "<unset>")
        if key == "table_checksum":
            x, y = str(x)[:12] + "...", str(y)[:12] + "..."
        left.append(f"{key}={x}")
        right.append(f"{key}={y}")
    return ", ".join(left) or "(identical)", ", ".join(right) or "(identical)"


_SIDECAR_KEYS = ("run_id", "algorithm", "dataset", "run", "status")


def parse_sidecar(path: Path) -> tuple[dict[str, Any] | None, str]:
    """A sidecar's record and ``""``, or None and what is wrong with the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, "is not UTF-8 text"
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    if not text.strip():
        return None, "is empty"
    try:
        record = json.loads(text)
    except ValueError as exc:
        return None, f"is not valid JSON (truncated? {exc})"
    if not isinstance(record, dict) or any(key not in record for key in _SIDECAR_KEYS):
        return None, f"is not a run's sidecar (a run's names {', '.join(_SIDECAR_KEYS)})"
    if not isinstance(record["run"], int) or isinstance(record["run"], bool):
        return None, "is not a run's sidecar (its run is not an integer)"
    return record, ""
