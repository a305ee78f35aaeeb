"""The ``gkt`` command line (spec/cli.md)."""
