"""The benchmark: NATS-Bench's size search space, its exact cost model, data, protocol, oracle.

The bottom layer: it imports nothing of the project above it (``algorithms``, ``analysis``,
``nas_harness``). The data pipeline is the sub-package :mod:`nas_harness.benchmarks.data`; the
on-disk
record of a run (trajectory schema, Parquet form, sidecar files) is
:mod:`nas_harness.benchmarks.records`
and :mod:`nas_harness.benchmarks.run_files`, which the analysis reads. Submodules are imported on
demand
so that ``import benchmarks`` stays cheap in worker processes.
"""
