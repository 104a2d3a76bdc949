"""The data pipeline: pinned sources, builders (public exports, official archive), store, fetch.

It sits above the benchmark core (space, cost model, table): builders produce a
:class:`nas_harness.benchmarks.table.BenchmarkTable`, the store caches it (finding its
sources as :mod:`nas_harness.benchmarks.data.locate` says), and nothing in the core imports
this package.
"""
