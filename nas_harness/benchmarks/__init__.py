"""The benchmark: NATS-Bench's size search space, its exact cost model, data, protocol, oracle.

The bottom layer: it imports nothing of the project above it (``algorithms``, ``analysis``,
the application). The data pipeline is the sub-package :mod:`nas_harness.benchmarks.data`.
The on-disk record of a run is :mod:`nas_harness.benchmarks.records` (trajectory schema,
Parquet form), :mod:`nas_harness.benchmarks.run_identity` (the sidecar's JSON and a run's
configuration) and :mod:`nas_harness.benchmarks.run_files` (writing, the completeness rule
and the one reader of runs, which the analysis and the sweep use). Submodules are imported
on demand so that ``import nas_harness.benchmarks`` stays cheap in worker processes.
"""
