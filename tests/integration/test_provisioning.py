"""Provisioning from the agreements folder alone: a third partner is a file (and a password), nothing else.

``gkt topics plan`` derives principals, topics and ACLs for a three-partner
folder (the samples plus UWV); ``docker/kafka/provision.sh`` carries the plan
out with Kafka's command-line tools. Here those tools are stand-ins: the topic
tool creates the topic on the embedded broker (with its partitions and
configs), the user and ACL tools record what they were asked (tansu has
neither SCRAM nor ACLs). The gateway's own start checks then pass on what was
created.
"""

import asyncio
import os
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from gateway.kafka.admin import start_refusal
from gateway.provision.plan import topic_specs
from gateway.topics import Topics
from tests.e2e.conftest import GKT
from tests.integration.test_new_partner import FIXTURES, uwv_setup

pytestmark = pytest.mark.kafka
PROVISION = Path(__file__).parents[2] / "docker" / "kafka" / "provision.sh"

TOPIC_TOOL = """#!{python}
import asyncio, sys
from gateway.kafka.admin import ensure_topics
from gateway.provision.plan import TopicSpec
args = sys.argv[1:]
def value(flag): return args[args.index(flag) + 1]
configs = dict(args[i + 1].split("=", 1) for i, a in enumerate(args) if a == "--config")
assert "--create" in args and "--if-not-exists" in args, args
spec = TopicSpec(value("--topic"), int(value("--partitions")), configs)
asyncio.run(ensure_topics(value("--bootstrap-server"), [spec]))
"""
RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "{calls}"
"""


def tools(where: Path) -> Path:
    where.mkdir()
    (where / "kafka-topics.sh").write_text(TOPIC_TOOL.format(python=sys.executable))
    for name in ("kafka-configs.sh", "kafka-acls.sh"):
        (where / name).write_text(RECORDER.format(calls=where / "calls.log"))
    for tool in where.iterdir():
        tool.chmod(0o755)
    return where


async def provision(env: dict[str, str]) -> "subprocess.CompletedProcess[str]":
    return await asyncio.to_thread(
        subprocess.run, [str(PROVISION)], env=env, capture_output=True, text=True, check=False
    )


async def test_a_three_partner_folder_is_provisioned_from_its_plan(kafka: str, tmp_path: Path) -> None:
    agreements, _ = uwv_setup(tmp_path)  # nla, kvk and uwv
    prefix = f"t{uuid.uuid4().hex[:10]}."
    plan = tmp_path / "plan.sh"
    env = {**os.environ, "GKT_TOPIC_PREFIX": prefix, "GKT_CONTRACTS_DIR": str(FIXTURES / "contracts")}
    await asyncio.to_thread(
        subprocess.run,
        [str(GKT), "topics", "plan", "--agreements", str(agreements), "--partitions", "2", "--out", str(plan)],
        check=True,
        env=env,
        capture_output=True,
    )
    bin_dir = tools(tmp_path / "bin")
    passwords = {f"{name.upper()}_PASSWORD": f"pw-{name}" for name in ("nla", "kvk", "uwv")}
    passwords |= {f"{name.upper()}_WITNESS_PASSWORD": f"pw-{name}-witness" for name in ("nla", "kvk", "uwv")}
    passwords |= {f"{r.upper()}_PASSWORD": f"pw-{r}" for r in ("gateway", "detectie", "reviewers", "auditors")}
    run = {"KAFKA_BIN": str(bin_dir), "PLAN": str(plan), "BOOTSTRAP": kafka, "KAFKA_ADMIN_PASSWORD": "pw-admin"}
    missing = await provision({**env, **run, **passwords})
    assert missing.returncode != 0, "a principal without its password stops provisioning"
    assert "REFERENTIE_PASSWORD: set REFERENTIE_PASSWORD in docker/.env" in missing.stderr

    assert not (bin_dir / "calls.log").exists(), "and before anything was created"
    passwords["REFERENTIE_PASSWORD"] = "pw-referentie"
    done = await provision({**env, **run, **passwords})
    assert done.returncode == 0, done.stderr
    assert "provisioned: 11 principals" in done.stdout

    topics = Topics(prefix)
    partners = ["kvk", "nla", "uwv"]
    wanted = {spec.name: spec for spec in topic_specs(topics, partners, [], 2)}  # destinations: checked below
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        described = {str(t["topic"]): len(t["partitions"]) for t in await admin.describe_topics(list(wanted))}
    finally:
        await admin.close()
    assert described == {name: spec.partitions for name, spec in wanted.items()}
    inbound = [topics.inbound(p) for p in partners]  # type: ignore[arg-type]
    assert await start_refusal(kafka, [*inbound, topics.review], topics.review) is None, "the gateway would start"

    calls = [shlex.split(line) for line in (bin_dir / "calls.log").read_text().splitlines()]
    users = {call[call.index("--entity-name") + 1] for call in calls if call[0] == "kafka-configs.sh"}
    witnesses = {"nla-witness", "kvk-witness", "uwv-witness"}
    assert users == {"nla", "kvk", "uwv", *witnesses, "gateway", "detectie", "reviewers", "auditors", "referentie"}
    assert [part for call in calls if "uwv" in call and call[0] == "kafka-configs.sh" for part in call[-2:]] == [
        "--add-config",
        "SCRAM-SHA-512=[iterations=8192,password=pw-uwv]",
    ]
    uwv = {" ".join(call[call.index("--operation") - 1 :]) for call in calls if "User:uwv" in call}
    assert uwv == {
        f"User:uwv --operation Write --topic {prefix}gkt.in.uwv",
        f"User:uwv --operation Read --topic {prefix}gkt.feedback.uwv",
        "User:uwv --operation Read --group uwv- --resource-pattern-type prefixed",
    }
    # Its witness logs in as a principal of its own, reads the log and checkpoints and writes only cosignatures.
    witness = {" ".join(call[call.index("--operation") - 1 :]) for call in calls if "User:uwv-witness" in call}
    assert witness == {
        f"User:uwv-witness --operation Read --topic {prefix}gkt.audit",
        f"User:uwv-witness --operation Read --topic {prefix}gkt.checkpoints",
        f"User:uwv-witness --operation Write --topic {prefix}gkt.witness",
    }
