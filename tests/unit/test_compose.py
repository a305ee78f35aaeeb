"""docker/compose.yaml, checked without a Docker engine: what would stop it starting, or leave it unwatched.

The local steps of the walk-through in docs/operations.md run here for real
(settings, TLS material, the gateway's key, its public keys) in a copy of
docker/; then every secret and bind-mounted file the services read must exist
and be readable by the user the container runs as, every setting passed must
be one the gateway has, every variable compose requires must be in
.env.example, and Prometheus must reach every gateway and load the alerts.
"""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import Settings
from tests.e2e.conftest import GKT

REPO = Path(__file__).parents[2]
DOCKER = REPO / "docker"
COMPOSE: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OPERATIONS = (REPO / "docs" / "operations.md").read_text()
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}")


def env_example() -> dict[str, str]:
    lines = (DOCKER / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}; a required variable that is unset fails."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        assert kind != "?", f"{name} is required and .env.example does not set it"
        return rest if kind == "-" else ""

    return VARIABLE.sub(one, text)


def one_shot(name: str) -> bool:
    """A job that runs and exits: restart "no", and something waits for it to complete (or a tools profile)."""
    service = SERVICES[name]
    waited = any(
        isinstance(other.get("depends_on"), dict)
        and other["depends_on"].get(name, {}).get("condition") == "service_completed_successfully"
        for other in SERVICES.values()
    )
    return service.get("restart") == "no" and (waited or "tools" in service.get("profiles", []))


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_restart_policy_and_a_health_check(name: str) -> None:
    service = SERVICES[name]
    assert "restart" in service, f"{name}: no restart policy"
    check = service.get("healthcheck")
    assert check, f"{name}: no health check"
    if check.get("disable"):
        assert one_shot(name), f"{name}: only a one-shot job may go without a health check"
    else:
        assert service["restart"] == "unless-stopped", name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_every_gateway_setting_passed_is_a_real_one() -> None:
    passed = {key for service in SERVICES.values() for key in (service.get("environment") or {}) if key[:4] == "GKT_"}
    passed |= set(re.findall(r"\b(GKT_[A-Z_]+)=", (DOCKER / "Dockerfile").read_text()))
    assert passed, "the services are configured by GKT_ variables"
    unknown = {key for key in passed if key[4:].lower() not in Settings.model_fields}
    assert not unknown, f"not settings of the gateway: {unknown}"


def test_the_env_example_sets_every_variable_compose_requires_and_none_is_a_gkt_setting() -> None:
    required = {match[0] for match in VARIABLE.findall((DOCKER / "compose.yaml").read_text()) if match[1] == "?"}
    example = env_example()
    assert required <= set(example), required - set(example)
    # Operators load docker/.env into their shell (set -a) to run gkt on the host: a GKT_ name there would be
    # read by every gkt command (and refused when it is no setting).
    assert not [name for name in example if name.startswith("GKT_")]
    for folder in ("AGREEMENTS_DIR", "POLICIES_DIR", "REVIEWERS_DIR"):
        assert "contracts/" not in example[folder], f"{folder}: a plain copy must not mount the test samples"


def test_every_topic_the_gateway_needs_is_provisioned_by_the_plan_it_generates() -> None:
    """provision-plan writes the plan into a volume; kafka-init mounts that volume where provision.sh reads it."""
    plan = SERVICES["provision-plan"]
    assert plan["command"][:2] == ["topics", "plan"]
    written = Path(plan["command"][plan["command"].index("--out") + 1])
    volume = next(v for v in plan["volumes"] if isinstance(v, str) and v.endswith(str(written.parent)))
    name = volume.split(":")[0]
    mounted = next(v for v in SERVICES["kafka-init"]["volumes"] if v.startswith(f"{name}:"))
    read = re.search(r'PLAN="\$\{PLAN:-(\S+)\}"', (DOCKER / "kafka" / "provision.sh").read_text())
    assert read is not None
    assert Path(mounted.split(":")[1]) / written.name == Path(read.group(1))
    assert SERVICES["kafka-init"]["depends_on"]["provision-plan"]["condition"] == "service_completed_successfully"
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert f"install -d -o gkt -g gkt {written.parent}" in dockerfile, "the image's user may write the plan"
    assert plan["environment"]["GKT_AGREEMENTS"] == SERVICES["gateway"]["environment"]["GKT_AGREEMENTS"]


def test_prometheus_scrapes_every_gateway_and_loads_the_alerts_grafana_shows_the_dashboard() -> None:
    prometheus = SERVICES["prometheus"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"] if v.startswith("./")}
    config = yaml.safe_load((DOCKER / mounts["/etc/prometheus/prometheus.yml"]).read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "gkt-gateway")  # the alerts' job label
    (discovery,) = job["dns_sd_configs"]
    assert discovery["names"] == ["gateway"], "the service name: Docker's DNS answers with every replica"
    assert str(discovery["port"]) == SERVICES["gateway"]["environment"]["GKT_HTTP_PORT"]
    assert SERVICES["gateway"]["deploy"]["replicas"] >= 2
    assert "ports" not in SERVICES["gateway"], "replicas are scraped inside the network, not on random host ports"
    for rules in config["rule_files"]:
        assert Path(mounts[rules]).name == "alerts.yml"
    alerts = yaml.safe_load((DOCKER / "monitoring" / "alerts.yml").read_text())
    names = {rule["alert"]: rule["expr"] for group in alerts["groups"] for rule in group["rules"]}
    assert "process_start_time_seconds" in names["GktGatewayRestarting"], "a restart loop is seen"

    grafana = SERVICES["grafana"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in grafana["volumes"] if v.startswith("./")}
    providers = yaml.safe_load((DOCKER / mounts["/etc/grafana/provisioning/dashboards/gkt.yml"]).read_text())
    folder = providers["providers"][0]["options"]["path"]
    assert any(target.startswith(folder + "/") and source.endswith(".json") for target, source in mounts.items())
    sources = yaml.safe_load((DOCKER / mounts["/etc/grafana/provisioning/datasources/gkt.yml"]).read_text())
    assert sources["datasources"][0]["url"] == "http://prometheus:9090"


def test_the_gateway_exports_its_start_time_for_the_restart_alert() -> None:
    from gateway.metrics import REGISTRY

    assert REGISTRY.get_sample_value("process_start_time_seconds") is not None


# The walk-through's local steps, as docs/operations.md has them (checked to be there, word for word).
STEPS = [
    "cp docker/.env.example docker/.env",
    "mkdir -m 700 docker/secrets",
    "docker/tls/make-certs.sh",
    'gkt keys new --kid "$GATEWAY_KID" --out docker/secrets --mode 0644',
    "gkt keys client-key --out docker/secrets/client.key --mode 0644",
    'GKT_SIGNING_KEY="docker/secrets/$GATEWAY_KID.pem" GKT_SIGNING_KID="$GATEWAY_KID" gkt keys show'
    " > docker/secrets/gateway-keys.json",
]
# Which user reads each mounted file inside its container: none of them is the host user that made it.
CONTAINER_USERS = {"kafka": 1000, "kafka-init": 1000, "prometheus": 65534, "grafana": 472}


def readable_by_others(path: Path) -> list[str]:
    """Files and folders under ``path`` a user who is neither owner nor group cannot read (or enter)."""
    paths = [path, *path.rglob("*")] if path.is_dir() else [path]
    need = {True: stat.S_IROTH | stat.S_IXOTH, False: stat.S_IROTH}
    return [str(p) for p in paths if (p.stat().st_mode & need[p.is_dir()]) != need[p.is_dir()]]


def test_after_the_walk_through_every_secret_and_mount_is_there_for_the_user_that_reads_it(tmp_path: Path) -> None:
    for step in STEPS:
        assert step in OPERATIONS, f"docs/operations.md no longer says: {step}"
    if shutil.which("openssl") is None:
        pytest.skip("no openssl on this machine: docker/tls/make-certs.sh needs it")
    shutil.copytree(DOCKER, tmp_path / "docker", ignore=shutil.ignore_patterns(".env", "secrets", "config"))
    example = env_example()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GKT_")}, **example}
    env["PATH"] = f"{GKT.parent}{os.pathsep}{env['PATH']}"
    for step in STEPS:
        subprocess.run(step, shell=True, cwd=tmp_path, env=env, check=True, capture_output=True)
    # The operator's reviewed folders (here: copies of the samples) where .env says.
    for variable, sample in (("AGREEMENTS_DIR", "contracts/agreements"), ("POLICIES_DIR", "routing/policy")):
        shutil.copytree(REPO / sample, tmp_path / "docker" / example[variable])
    shutil.copytree(REPO / "contracts/reviewers", tmp_path / "docker" / example["REVIEWERS_DIR"])
    shutil.copytree(REPO / "contracts/teams", tmp_path / "docker" / example["TEAMS_DIR"])

    compose = yaml.safe_load(interpolate((tmp_path / "docker" / "compose.yaml").read_text(), example))
    base = tmp_path / "docker"
    unreadable: list[str] = []
    for secret in compose["secrets"].values():
        assert (base / secret["file"]).exists(), secret["file"]
        unreadable += readable_by_others(base / secret["file"])  # every secret is read by uid 10001 or 1000
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            if not source.startswith("."):
                continue  # a named volume
            path = (base / source).resolve()
            assert path.exists(), f"{name}: {source} does not exist after the walk-through"
            if name in CONTAINER_USERS or name in ("gateway", "detectie-consumer", "provision-plan", "gkt"):
                unreadable += readable_by_others(path)
    private = base / "secrets"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700, "the key is readable by others only inside a closed folder"
    # The CA's own files (its key, its serial number) stay the operator's (0600, docs/operations.md "TLS"):
    # the broker's folder holds them, and the broker never reads them.
    unreadable = [p for p in unreadable if not p.endswith(("ca.key", "ca.srl"))]
    assert not unreadable, f"the container's user cannot read: {unreadable}"
