"""nas-harness: fair, reproducible and fast NAS benchmarking on NATS-Bench's size search space.

The application layer: experiments and their specs, seeding, the runner and executors, sweeps,
the regression gate, the command line and the speed scripts that time whole sweeps. It may
import everything below it (``algorithms``, ``analysis``, ``benchmarks``); nothing imports it.
"""

__version__ = "0.1.0"
