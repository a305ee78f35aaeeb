"""Sample data for ``gkt demo`` and the tests: keys, reference data, reports."""
