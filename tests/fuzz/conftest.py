"""Fuzzing profiles: a bounded run in ``make test``, a long one in ``make fuzz`` (``FUZZ_EXAMPLES``)."""

import os

import pytest
from hypothesis import HealthCheck, settings

# Inputs are large and slow by design (25,000 members, 2,000 levels): no deadline, no size complaints.
_RELAXED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("bounded", max_examples=150, deadline=None, suppress_health_check=_RELAXED)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25000")),
    deadline=None,
    suppress_health_check=_RELAXED,
    print_blob=True,
)
settings.load_profile("long" if os.environ.get("FUZZ_EXAMPLES") else "bounded")

TRIED: dict[str, int] = {}


def count(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TRIED:
        total = sum(TRIED.values())
        failed = sum(1 for report in terminalreporter.stats.get("failed", []) if "tests/fuzz/" in report.nodeid)
        lines = ", ".join(f"{name} {n:,}" for name, n in sorted(TRIED.items()))
        terminalreporter.write_line(f"fuzz: {total:,} inputs tried ({lines}); {failed} failing fuzz tests")
