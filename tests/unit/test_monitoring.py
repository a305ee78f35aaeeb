"""The alert rules and the dashboard in docker/monitoring/ use only metrics the gateway exports on /metrics."""

import json
import re
from pathlib import Path

import yaml

from gateway.metrics import REGISTRY

MONITORING = Path(__file__).parents[2] / "docker" / "monitoring"
METRIC = re.compile(r"\bgkt_[a-z_]+\b")


def exported() -> set[str]:
    """Every series name /metrics can hold: each family with its type's suffixes."""
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ()))
    return names


def rules() -> list[dict[str, object]]:
    document = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_metric_an_alert_uses_exists() -> None:
    used = {name for rule in rules() for name in METRIC.findall(str(rule["expr"]))}
    assert used, "the rules use the gateway's metrics"
    assert used <= exported(), used - exported()


def test_the_alerts_the_operators_asked_for_are_there() -> None:
    uses = {str(rule["alert"]): str(rule["expr"]) for rule in rules()}
    assert "up{" in uses["GktGatewayDown"]
    assert "gkt_ready" in uses["GktGatewayNotReady"]
    assert "gkt_consumer_lag" in uses["GktConsumerLagGrowing"]
    assert "gkt_quarantine_oldest_seconds" in uses["GktQuarantineOld"]
    assert "gkt_reference_invalid_total" in uses["GktReferenceRecordsInvalid"]
    assert "SIGNATURE_INVALID" in uses["GktSignatureFailuresRising"]
    assert all(rule.get("annotations") for rule in rules()), "every alert says what it means"


def test_every_metric_the_dashboard_shows_exists() -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expr in exprs for name in METRIC.findall(expr)}
    assert {"gkt_decisions_total", "gkt_consumer_lag", "gkt_quarantine_open"} <= used
    assert used <= exported(), used - exported()
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


def test_every_alert_has_a_runbook_in_the_operations_guide() -> None:
    guide = (MONITORING.parents[1] / "docs" / "operations.md").read_text()
    runbooks = guide[guide.index("### Alerts: what each means, what to do") :]
    for rule in rules():
        assert f"| `{rule['alert']}` |" in runbooks, rule["alert"]
