"""The reason in the ``exiting`` line: a gateway error in its own words, anything else without its message."""

from gateway.cli.stopping import failure_reason
from gateway.errors import BrokerError


def test_a_gateway_error_is_its_own_reason() -> None:
    assert (
        failure_reason(BrokerError("Kafka failed: X; exiting for a restart"))
        == "Kafka failed: X; exiting for a restart"
    )


def test_an_unforeseen_error_is_named_by_type_and_place_never_by_its_message() -> None:
    try:
        {}["BSN 123456782 Jan de Vries"]  # a bug whose message carries what the process was handling
    except KeyError as exc:
        reason = failure_reason(exc)
    assert reason.startswith("unexpected KeyError at test_stopping.py:")
    assert "123456782" not in reason
    assert "Jan" not in reason
