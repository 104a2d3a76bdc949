"""Search algorithms: the ask/tell interface, the registry and one module per algorithm.

Importing this package is cheap; the registry imports the algorithm modules on first use.
"""
