"""Numbers computed from runs: step-function curves, summaries, reference lines, criteria."""
