"""Figures drawn from the metrics; every plot function returns ``(figure, data)``."""
