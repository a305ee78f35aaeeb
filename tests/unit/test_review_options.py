"""gkt review and gkt audit: the shared options of cli.md on every command, checked values, output for people."""

import pytest
from typer.testing import CliRunner

from gateway.cli.app import app
from gateway.cli.plain import plain
from gateway.errors import UsageError

RUNNER = CliRunner()
SHARED = ("--agreements", "--reviewers", "--reference", "--allow-test-oins")


@pytest.mark.parametrize(
    ("command", "options"),
    [
        (["review", "show"], SHARED),
        (["review", "release"], SHARED),
        (["review", "discard"], SHARED),
        (["review", "recheck"], SHARED),
        (["review", "list"], ("--agreements", "--reviewers")),
        (["audit", "verify"], ("--agreements", "--reviewers")),
    ],
)
def test_every_review_and_audit_command_takes_the_shared_options(command: list[str], options: tuple[str]) -> None:
    shown = RUNNER.invoke(app, [*command, "--help"], terminal_width=200).output
    for option in options:
        assert option in shown, f"gkt {' '.join(command)} has no {option}"


def test_an_unknown_reason_code_is_a_usage_error_not_an_empty_table() -> None:
    result = RUNNER.invoke(app, ["review", "list", "--reason", "FOO", "--bootstrap", "127.0.0.1:1"])
    assert isinstance(result.exception, UsageError), "exit 2 (gkt's main), before Kafka is asked"
    assert str(result.exception).startswith("--reason FOO: not a reason code")


def test_values_for_people_are_never_python_reprs() -> None:
    assert plain(["REFERENCE_UNKNOWN", "REVIEW_REQUIRED"]) == "REFERENCE_UNKNOWN, REVIEW_REQUIRED"
    assert plain({"agreement": "kvk:2025.1", "policy": None}) == "agreement: kvk:2025.1; policy: -"
    assert plain(None) == "-"
    assert plain([]) == "-"
