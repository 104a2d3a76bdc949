"""The provenance stamp of a report: which code, which commit, when, which command, which file.

A report read months later must say what produced it. The stamp is a small ordered mapping of
text, rendered by :func:`nas_harness.analysis.report.build_report` in ``report.html``; nothing in
it enters
the committed tables (it changes with every call).
"""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from nas_harness import __version__

_REPO = Path(__file__).resolve().parents[1]


def git_commit(directory: Path = _REPO) -> str | None:
    """The checked-out commit of the repository holding the package (None outside one).

    ``+ local changes`` is appended when tracked files differ from the commit.
    """
    try:
        commit = subprocess.run(["git", "-C", str(directory), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True
                                ).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(directory), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit} + local changes" if dirty else commit or None


def provenance_stamp(experiment: Path | None = None,
                     argv: Sequence[str] | None = None) -> dict[str, str]:
    """Package version, git commit (when in a repository), UTC date, command line, experiment.

    Args:
        experiment: the experiment file the runs come from (its sha256 is recorded too).
        argv: the command line (default: ``sys.argv``, program name shortened).
    """
    args = list(sys.argv if argv is None else argv)
    if args:
        args[0] = Path(args[0]).name
    stamp = {"package": f"nas-harness {__version__}"}
    commit = git_commit()
    if commit:
        stamp["git commit"] = commit
    stamp["date"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    stamp["command"] = shlex.join(args)
    if experiment is not None:
        try:
            digest = hashlib.sha256(Path(experiment).read_bytes()).hexdigest()[:16]
            stamp["experiment"] = f"{experiment} (sha256 {digest}...)"
        except OSError:
            stamp["experiment"] = str(experiment)
    return stamp
