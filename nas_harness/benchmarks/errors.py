"""Exceptions of the harness: each message says what went wrong and how to fix it."""

from __future__ import annotations


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""


class InvalidArchitectureError(HarnessError, ValueError):
    """An architecture string, tuple or index that is not in the search space."""


class UnknownNameError(HarnessError, KeyError):
    """An unknown dataset, algorithm, parameter or fidelity name."""

    def __str__(self) -> str:
        # KeyError quotes its argument; a plain message reads better on the command line.
        return str(self.args[0]) if self.args else ""


class BudgetExhaustedError(HarnessError, RuntimeError):
    """An evaluation was requested after the query budget was spent."""


class DataNotFoundError(HarnessError, FileNotFoundError):
    """The benchmark table or its source files are missing."""


class DataIntegrityError(HarnessError, ValueError):
    """A data file exists but is corrupted: wrong checksum, shape, NaN or index order."""


class ProtocolError(HarnessError, ValueError):
    """A protocol that cannot be run: impossible budget, constraint nobody satisfies, ..."""
