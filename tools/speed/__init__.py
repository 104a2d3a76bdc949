"""Speed scripts: each times the harness against a plain reference in one run (not installed)."""
