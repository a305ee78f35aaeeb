"""Reading one definition file (agreement, reviewers) with every failure worded as file and field."""

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from contracts.errors import DefinitionError

T = TypeVar("T")


def load_definition(path: Path, parse: Callable[[bytes], T]) -> T:
    """``parse(path's bytes)``; any failure becomes one ``DefinitionError`` naming ``path`` and the field."""
    try:
        return parse(path.read_bytes())
    except OSError as exc:
        raise DefinitionError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"{path}: not UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{path}: not valid TOML ({exc})") from exc
    except RecursionError:
        # tomllib and pydantic recurse per level: x = [[[[…]]]] must be one line, not a 3,000-line traceback.
        raise DefinitionError(f"{path}: nested too deeply to be a definition file") from None
    except ValidationError as exc:
        error = exc.errors(include_input=False)[0]
        field = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise DefinitionError(f"{path}: {field}: {message}") from exc
