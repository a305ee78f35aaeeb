"""Domain ids as distinct types. Partner and key ids belong to the agreements (contracts/types.py)."""

from typing import NewType

from contracts.types import KeyId, PartnerId

__all__ = ["ChainId", "KeyId", "PartnerId"]

ChainId = NewType("ChainId", str)
"""Audit chain id: one inbound partition, ``<topic>/<partition>``."""
