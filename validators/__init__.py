"""Dutch identifier checks (spec/contracts.md, "Identifiers")."""

from validators.identifiers import (
    is_bsn,
    is_btw_id,
    is_kvk_nummer,
    is_loonheffingennummer,
    is_oin,
    is_rsin,
    is_vestigingsnummer,
    passes_elfproef,
)

__all__ = [
    "is_bsn",
    "is_btw_id",
    "is_kvk_nummer",
    "is_loonheffingennummer",
    "is_oin",
    "is_rsin",
    "is_vestigingsnummer",
    "passes_elfproef",
]
