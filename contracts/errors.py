"""Errors of the contracts package: one root, and the class says what is wrong.

Contracts never know about reason codes or the gateway: a report that breaks
its contract is data (``contracts.base.Violation``, with a JSON pointer),
which the gateway's contract stage turns into a reason code. A definition
that is wrong (a contract module, an agreement file) raises here, naming file
and field; the gateway turns that into its own configuration error at start.
"""


class ContractsError(Exception):
    """Root of every error the contracts package raises on purpose."""


class DefinitionError(ContractsError):
    """A contract module, schema snapshot or working agreement file is invalid; names file and field."""
