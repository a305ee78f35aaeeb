"""Errors of the routing package: a policy or reference data file that cannot be used.

The message names file and field (or line); the gateway turns it into its
own configuration error at start (gateway/rules_loader.py).
"""


class RoutingError(Exception):
    """Root of every error the routing package raises on purpose."""


class RoutingDataError(RoutingError):
    """A policy file or a reference data file is invalid."""
