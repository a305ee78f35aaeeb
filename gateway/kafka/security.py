"""Connection options for every Kafka client the gateway makes: one place for security settings."""

import ssl
from typing import Any

from gateway.errors import ConfigError
from gateway.settings import Settings


def client_options(settings: Settings) -> dict[str, Any]:
    """aiokafka keyword arguments for the configured security protocol (none for PLAINTEXT)."""
    protocol = settings.security_protocol
    options: dict[str, Any] = {}
    if protocol == "PLAINTEXT":
        return options
    options["security_protocol"] = protocol
    if protocol in ("SSL", "SASL_SSL"):
        cafile = str(settings.ssl_cafile) if settings.ssl_cafile else None
        options["ssl_context"] = ssl.create_default_context(cafile=cafile)
    if protocol.startswith("SASL_"):
        if not settings.sasl_username or settings.sasl_password is None:
            raise ConfigError(
                f"setting sasl_username / sasl_password (GKT_SASL_USERNAME, GKT_SASL_PASSWORD): needed for {protocol}"
            )
        options.update(
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=settings.sasl_password.get_secret_value(),
        )
    return options
