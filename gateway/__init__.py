"""GKT signal gateway: authenticates, checks and routes partner reports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gkt-gateway")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

__all__ = ["__version__"]
