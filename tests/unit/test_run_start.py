"""What ``gkt run`` decides with before it starts: producer time trusted only on the embedded broker, and said."""

import pytest
from structlog.testing import capture_logs

from gateway.cli.run import _start_up_summary, embedded_defaults
from gateway.settings import Settings
from tests.helpers import make_rules


@pytest.fixture(autouse=True)
def _production_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GKT_TRUST_PRODUCER_TIME", raising=False)  # the suite sets it for the embedded broker


def test_producer_time_is_trusted_on_the_embedded_broker_only() -> None:
    assert Settings().trust_producer_time is False, "off by default"
    assert embedded_defaults(Settings()).trust_producer_time is True
    assert embedded_defaults(Settings(bootstrap="kafka:9092")).trust_producer_time is False
    assert embedded_defaults(Settings(bootstrap="kafka:9092", trust_producer_time=True)).trust_producer_time


@pytest.mark.parametrize("trusted", [True, False])
def test_the_start_warns_whenever_producer_time_is_trusted(trusted: bool) -> None:
    settings = Settings(bootstrap="kafka:9092", trust_producer_time=trusted)
    with capture_logs() as logs:
        _start_up_summary(settings, make_rules(), "kafka:9092")
    warned = [line for line in logs if line["event"] == "producer_time_trusted"]
    assert len(warned) == (1 if trusted else 0)
    if trusted:
        assert warned[0]["log_level"] == "warning"
        assert "GKT_TRUST_PRODUCER_TIME" in warned[0]["setting"]
