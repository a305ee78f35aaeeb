"""The GKT review team as versioned data: ``contracts/reviewers/<version>.toml`` (spec/review.md).

The rules every signer's file follows are in ``contracts.keyholders``; this
names the list ``reviewers`` and the folder.
"""

from pathlib import Path
from typing import Annotated

from pydantic import Field

from contracts.keyholders import HOLDER_ID, Holder, HolderBook, HolderVersion, shared_keys

DEFAULT_DIR = Path(__file__).parent / "reviewers"
REVIEWER_ID = HOLDER_ID
Reviewer = Holder

__all__ = ["DEFAULT_DIR", "REVIEWER_ID", "Reviewer", "ReviewerBook", "ReviewerVersion", "shared_keys"]


class ReviewerVersion(HolderVersion):
    """Who may give verdicts while this version is in force."""

    LIST = "reviewers"
    NOUN = "reviewer"
    reviewers: Annotated[list[Holder], Field(min_length=1)]


class ReviewerBook(HolderBook[ReviewerVersion]):
    """Every reviewer version, current and archived, and which one is in force at a moment."""

    MODEL = ReviewerVersion
