"""Domain ids as distinct types, so a partner name is never passed as a key id."""

from typing import NewType

PartnerId = NewType("PartnerId", str)
"""Short partner name from its working agreement (``nla``, ``kvk``); names its topics."""

KeyId = NewType("KeyId", str)
"""``kid`` of a signing key, as in the JWS protected header."""
