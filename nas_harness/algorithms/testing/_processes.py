"""Runs an algorithm in fresh interpreters, to show its proposals do not depend on the process."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, cast

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.testing._landscape import synthetic_proposals

_CHILD = "from nas_harness.algorithms.testing._processes import _child_main; _child_main()\n"


def _child_main() -> None:
    """Entry point of a fresh process: import the class by name (or from its file), run, print.

    A plugin loaded from a file (``load_plugin``) lives under a module name that only its
    process knows, so the class travels as (module name, file, qualified name) and its module
    is re-created from the file when the name does not import; the parameters, which may be
    of a class nested in it, are unpickled only after that.
    """
    module_name, module_file, qualname, blob = pickle.load(sys.stdin.buffer)
    if module_name not in sys.modules:
        try:
            importlib.import_module(module_name)
        except ImportError:
            spec = importlib.util.spec_from_file_location(module_name, module_file)
            assert spec is not None and spec.loader is not None, module_file
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
    cls = cast("type[Algorithm]",
               functools.reduce(getattr, qualname.split("."), sys.modules[module_name]))
    params, budget, seed, schedule = pickle.loads(blob)
    print(json.dumps(synthetic_proposals(cls, params, budget, seed, schedule)))


def proposals_in_fresh_processes(cls: type[Algorithm], params: Any, budget: int, seed: int,
                                 schedule: Sequence[int] | None,
                                 hash_seeds: Sequence[str] = ("1", "2")) -> list[list[int]]:
    """:func:`synthetic_proposals` in new interpreters, one per ``PYTHONHASHSEED`` value.

    The children run side by side, see this process's ``sys.path`` (so a plugin imported from
    a test directory imports there too), get the class by name (see :func:`_child_main`) and
    the parameters by pickle.
    """
    blob = pickle.dumps((params, budget, seed, None if schedule is None else list(schedule)))
    module_file = getattr(sys.modules[cls.__module__], "__file__", None)
    payload = pickle.dumps((cls.__module__, module_file, cls.__qualname__, blob))
    children = []
    for hash_seed in hash_seeds:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed,
               "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        children.append(subprocess.Popen([sys.executable, "-c", _CHILD], env=env,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE))
    outputs = [child.communicate(payload, timeout=600) for child in children]
    results = []
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, (
            f"the run in a fresh process failed:\n{err.decode(errors='replace')[-2000:]}")
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return results
