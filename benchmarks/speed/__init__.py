"""Speed scripts that only touch the benchmark (table loading and lookups)."""
