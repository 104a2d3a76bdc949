"""Speed scripts that time whole sweeps, the oracle against the official API, and the analysis."""
