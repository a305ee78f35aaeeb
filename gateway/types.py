"""Domain ids as distinct types. Partner and key ids belong to the agreements (contracts/types.py)."""

import re
from typing import NewType

from contracts.types import KeyId, PartnerId

__all__ = ["ChainId", "KeyId", "PartnerId"]

ChainId = NewType("ChainId", str)
"""Audit chain id: one inbound partition, ``<topic>/<partition>``."""

CHAIN_FORM = re.compile(r"[A-Za-z0-9._-]{1,249}/(0|[1-9][0-9]{0,5})")
"""What a chain id looks like: a topic name as Kafka allows it, a partition number."""
