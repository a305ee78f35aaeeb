"""Errors of the contracts package: one root, and the class says what is wrong.

Contracts never know about reason codes or the gateway: a report that breaks
its contract is data (``contracts.base.Violation``, with a JSON pointer),
which the gateway's contract stage turns into a reason code. A definition
that is wrong (a contract module, an agreement file) raises here, naming file
and field; the gateway turns that into its own configuration error at start.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


class ContractsError(Exception):
    """Root of every error the contracts package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong (``error``) or doubtful (``warning``) in a definition file, as file, field and words."""

    file: Path
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}" if self.field else f"{self.file}: {self.message}"

    def as_json(self) -> dict[str, str]:
        return {"severity": self.severity, "file": str(self.file), "field": self.field, "message": self.message}


class DefinitionError(ContractsError):
    """A contract module, schema snapshot or working agreement file is invalid; names file and field.

    ``problems`` holds every error found where a loader could go on looking
    (``gkt agreements check`` lists them all); the message is the first, so the
    gateway's start still fails with one line.
    """

    def __init__(self, message: str | Problem, problems: tuple[Problem, ...] = ()) -> None:
        first = str(message)
        more = len(problems) - 1
        super().__init__(first + (f" (and {more} more problem{'s' * (more > 1)})" if more > 0 else ""))
        self.problems = problems or ((message,) if isinstance(message, Problem) else ())
