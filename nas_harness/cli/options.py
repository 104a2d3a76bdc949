"""Flags the sub-commands share, and the parsers that turn their text into typed values.

Each flag's text is parsed here, once, into the value the library takes (a number, a fraction,
seconds, per-dataset seconds); a malformed value is argparse's one-line usage error. The
library then checks what it needs to know about the value (ranges, names) on construction of
its records.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nas_harness.execution import ExecutionOptions

__all__ = [
    "DefaultsFormatter",
    "DefaultsParser",
    "GivenAction",
    "add_execution_args",
    "add_protocol_args",
    "execution_options",
    "fraction",
    "names",
    "positive_seconds",
    "seconds",
    "time_budget",
]


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows each option's default, except where there is none to show.

    A help text that already names its default (``"(default: all cores)"``) is left as is.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, [], argparse.SUPPRESS) \
                or "default" in (action.help or "").lower():
            return action.help
        return super()._get_help_string(action)


class DefaultsParser(argparse.ArgumentParser):
    """An ArgumentParser whose ``--help`` shows defaults (the sub-commands' parser class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsFormatter)
        super().__init__(*args, **kwargs)


class GivenAction(argparse.Action):
    """Store the value and add the flag's name to ``args.given`` (defaults stay in help).

    A parser using it sets ``given=frozenset()`` as a default, so ``args.given`` always exists.
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        """Store ``values`` and note the flag as given."""
        setattr(namespace, self.dest, values)
        namespace.given = frozenset({*namespace.given, self.dest})


def fraction(text: str) -> float | None:
    """``--max-flops-fraction``: a number in (0, 1], or ``none`` for no constraint."""
    if text.strip().lower() in {"none", "off"}:
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a fraction like 0.5 (or 'none'), got {text!r}") from None
    if not math.isfinite(value):  # 'none' is how to say no constraint; the range is checked
        raise argparse.ArgumentTypeError(  # with the rest of the protocol
            f"expected a fraction in (0, 1] like 0.5, or 'none' for no constraint; got {text!r}")
    return value


def seconds(text: str) -> float | None:
    """``--run-timeout``: positive seconds, or ``none`` for no limit."""
    if text.strip().lower() in {"none", "off"}:
        return None
    value = _positive(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds (or 'none'), got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """``--scheduler-timeout``: positive seconds."""
    value = _positive(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _positive(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def time_budget(text: str) -> float | dict[str, float]:
    """``--budget-seconds``: ``S`` for every dataset, or ``cifar10=20000,cifar100=40000``."""
    try:
        if "=" not in text:
            return float(text)
        out = {}
        for item in text.split(","):
            key, _, value = item.partition("=")
            out[key.strip()] = float(value)
        return out
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected seconds like 20000 or cifar10=20000,cifar100=40000, got {text!r}"
        ) from None


def names(values: list[str] | None) -> list[str]:
    """Repeated and comma-separated names, in order, without repeats."""
    out: list[str] = []
    for value in values or []:
        for name in value.split(","):
            if name.strip() and name.strip() not in out:
                out.append(name.strip())
    return out


def execution_options(args: argparse.Namespace) -> ExecutionOptions:
    """The execution flags (:func:`add_execution_args`) as one checked record, before any work.

    A malformed ``--scheduler`` address or a bad ``--workers`` is one line here.
    """
    from nas_harness.execution import ExecutionOptions

    return ExecutionOptions(workers=args.workers, scheduler=args.scheduler,
                            scheduler_timeout=args.scheduler_timeout,
                            run_timeout=args.run_timeout, progress=not args.no_progress)


def add_protocol_args(parser: argparse.ArgumentParser) -> None:
    """``--protocol`` and ``--budget-seconds`` (run and reproduce)."""
    from nas_harness.benchmarks.protocol import PRESETS

    parser.set_defaults(given=frozenset())
    parser.add_argument(
        "--protocol", default=None, choices=sorted(PRESETS), metavar="NAME", action=GivenAction,
        help="a published protocol: " + "; ".join(
            f"{p.name} = {p.summary}".replace("%", "%%") for p in PRESETS.values())
        + " (explicit options override it; sources in nas_harness/benchmarks/protocol.py)")
    parser.add_argument(
        "--budget-seconds", type=time_budget, default=None, metavar="S", action=GivenAction,
        help="budget in simulated seconds: each query is charged its hp=12 training plus "
             "evaluation time as NATS-Bench's simulate_train_eval does; a run ends when the "
             "next query would exceed S (needs hp=12 times: the official archive). S or "
             "cifar10=S1,cifar100=S2,ImageNet16-120=S3")


def add_execution_args(parser: argparse.ArgumentParser, out_help: str) -> None:
    """Where runs go and how they execute (run and reproduce)."""
    from nas_harness.execution import DEFAULT_SCHEDULER_TIMEOUT
    from nas_harness.task import DEFAULT_RUN_TIMEOUT

    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="local worker processes (default: all cores, also the cap; 1 = "
                             "in this process, where a run that exits ends the sweep)")
    parser.add_argument("--scheduler", metavar="ADDR", default=None,
                        help="run on an existing Dask cluster, e.g. tcp://host:8786 "
                             "(results are gathered to --out)")
    parser.add_argument("--scheduler-timeout", type=positive_seconds,
                        default=DEFAULT_SCHEDULER_TIMEOUT, metavar="SECONDS",
                        help="give up when the Dask scheduler does not answer within this long")
    parser.add_argument("--out", default=None, metavar="DIR", help=out_help)
    parser.add_argument("--force", action="store_true",
                        help="recompute runs that are already complete, and replace runs of "
                             "another configuration under the same label")
    parser.add_argument("--no-progress", action="store_true", help="no progress output")
    parser.add_argument("--run-timeout", type=seconds, default=DEFAULT_RUN_TIMEOUT,
                        metavar="SECONDS",
                        help="stop a run after this long and record it as failed ('none' for "
                             "no limit)")
