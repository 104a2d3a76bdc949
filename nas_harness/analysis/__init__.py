"""Analysis of runs: aggregation (metrics), figures (plots), tables, report and regression gate."""
