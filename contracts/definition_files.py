"""Reading one definition file (agreement, reviewers) with every failure worded as file and field."""

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from contracts.errors import DefinitionError, Problem

T = TypeVar("T")

# A file with thousands of wrong entries is still a screenful, not a flood.
_MOST_PROBLEMS = 50


def load_definition(path: Path, parse: Callable[[bytes], T]) -> T:
    """``parse(path's bytes)``; any failure becomes a ``DefinitionError`` naming ``path`` and each field wrong."""
    try:
        return parse(path.read_bytes())
    except OSError as exc:
        raise DefinitionError(Problem(path, "", f"cannot read ({exc.strerror})")) from exc
    except UnicodeDecodeError as exc:
        raise DefinitionError(Problem(path, "", "not UTF-8")) from exc
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(Problem(path, "", f"not valid TOML ({exc})")) from exc
    except RecursionError:
        # tomllib and pydantic recurse per level: x = [[[[…]]]] must be one line, not a 3,000-line traceback.
        raise DefinitionError(Problem(path, "", "nested too deeply to be a definition file")) from None
    except ValidationError as exc:
        problems = tuple(
            Problem(
                path,
                ".".join(str(part) for part in error["loc"]) or "(top level)",
                str(error["msg"]).removeprefix("Value error, "),
            )
            for error in exc.errors(include_input=False)[:_MOST_PROBLEMS]
        )
        raise DefinitionError(problems[0], problems) from exc
