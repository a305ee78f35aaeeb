"""The ``gkt`` command line (spec/cli.md).

``main`` is the console script. It is installed with every install of the
package, also the lean one a detection team takes (no ``service`` extra): there
it says what to install instead of failing with a traceback.
"""

import sys

# What the command line and the service import that the lean install does not hold.
_SERVICE_MODULES = {"typer", "faststream", "calfkit", "uvicorn", "pydantic_settings", "rich"}


def main() -> None:
    try:
        from gateway.cli.app import main as run
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in _SERVICE_MODULES:
            raise
        print(
            "gkt: the command line needs the service extra: pip install 'gkt-gateway[service]' "
            "(this install is the lean one, for the consumer helper: docs/consumers.md)",
            file=sys.stderr,
        )
        sys.exit(2)
    run()
