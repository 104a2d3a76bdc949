"""NATS-Bench size-search-space oracle: search space, cost model, data, protocol and runner.

Submodules are imported on demand so that `import benchmarks` stays cheap in worker processes.
"""
