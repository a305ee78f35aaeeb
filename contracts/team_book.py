"""Detection teams as versioned data: ``contracts/teams/<version>.toml`` (spec/selection.md, feedback).

A team signs what became of a signal on ``bd.terugkoppeling``. Same format and
rules as the reviewers file (``contracts.keyholders``), with the list named
``teams``; ``id`` is the team (``mkb-oost``), what the audit log records.
"""

from pathlib import Path
from typing import Annotated

from pydantic import Field

from contracts.keyholders import HOLDER_ID, Holder, HolderBook, HolderVersion

DEFAULT_DIR = Path(__file__).parent / "teams"
TEAM_ID = HOLDER_ID


class TeamVersion(HolderVersion):
    """Which teams may report on signals while this version is in force."""

    LIST = "teams"
    NOUN = "team"
    teams: Annotated[list[Holder], Field(min_length=1)]


class TeamBook(HolderBook[TeamVersion]):
    """Every team version, current and archived, and which one is in force at a moment."""

    MODEL = TeamVersion
