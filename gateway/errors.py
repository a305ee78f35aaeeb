"""One root for the gateway's own errors; the class says what happens next.

Bad *input* is never an exception here: it becomes a reason code in a
decision (gateway/reasons.py). These errors are for the operator: a setting,
file or key that is wrong stops the service at start with one line naming the
file and field, and a Kafka failure that cannot be retried stops the service so
that a restart resumes from the last committed offset.
"""


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """A setting, agreement, policy, contract or key file is invalid; fatal at start."""


class BrokerError(GatewayError):
    """Kafka could not be reached or refused a write; the service stops uncommitted."""


class UsageError(GatewayError):
    """A command was called with arguments that cannot work (CLI exit code 2)."""
