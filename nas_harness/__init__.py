"""nas-harness: fair, reproducible and fast NAS benchmarking on NATS-Bench's size search space."""

__version__ = "0.1.0"
