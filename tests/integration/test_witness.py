"""Through the broker: a witness follows a running gateway and cosigns its checkpoints (spec/witness.md); then
the operator rewrites the log with the gateway's own key, truncates it and forks it, and each time the witness
refuses, exits 3 and keeps the evidence, and ``gkt audit verify --witnesses`` reports what was done."""

import asyncio
import json
import shutil
import signal
import sys
import urllib.request
from asyncio.subprocess import PIPE
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from structlog.testing import capture_logs

from contracts.jsonio import strict_loads
from gateway.audit.record import seal, sign_checkpoint
from gateway.demo.scenario import samples
from gateway.kafka.embedded import free_port
from gateway.kafka.writer import Writer, new_producer
from gateway.keyset import KeySet
from gateway.outputs import OutMessage
from gateway.signing import Signer
from gateway.witness.checkpoint import DEFAULT_ORIGIN, Checkpoint, checkpoint_note, gateway_verifiers
from gateway.witness.note import COSIGNATURE_V1, Note, NoteSigner
from gateway.witness.round import Witness, witness_round
from gateway.witness.state import WitnessState
from tests.brokers import Broker
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka

GKT = Path(sys.executable).parent / "gkt"


async def run(*command: str) -> tuple[int | None, str, str]:
    """A ``gkt`` command as a process, without blocking the event loop a gateway may run in."""
    process = await asyncio.create_subprocess_exec(str(GKT), *command, stdout=PIPE, stderr=PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


def by_chain(audit: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    chains: dict[str, list[dict[str, Any]]] = {}
    for record in sorted(audit, key=lambda r: (r["chain"], r["seq"])):
        chains.setdefault(record["chain"], []).append(record)
    return chains


def rechained(records: list[dict[str, Any]], harness: Harness) -> list[bytes]:
    """The operator's rewrite: ``records`` linked and hashed anew, the last signed with the gateway's key."""
    prev = "sha256:" + "0" * 64
    sealed = []
    for record in records:
        body = {k: v for k, v in record.items() if k not in ("hash", "sig")}
        body["prev"] = prev
        sealed.append(seal(body))  # type: ignore[arg-type]
        prev = sealed[-1].record["hash"]
    sign_checkpoint(sealed[-1].record, harness.signer)
    return [s.encoded() for s in sealed]


async def operator_log(
    harness: Harness, prefix: str, chains: dict[str, list[bytes]], checkpoints: dict[str, tuple[int, str]]
) -> str:
    """The operator's attack: the log made anew under ``prefix`` from ``chains``, and a checkpoint of each
    signed with the gateway's key and added to the real ``gkt.checkpoints``. The new audit topic's name."""
    forged = await Harness(harness.bootstrap, prefix).setup()
    producer = new_producer(harness.bootstrap)
    await producer.start()
    try:
        writer = Writer(producer)
        audit = forged.topics.audit
        await writer.write([OutMessage(audit, c.encode(), r) for c, records in chains.items() for r in records])
        notes = [
            checkpoint_note(Checkpoint(c, size, head, datetime.now(UTC)), DEFAULT_ORIGIN, harness.signer)  # type: ignore[arg-type]
            for c, (size, head) in checkpoints.items()
        ]
        topic = harness.topics.checkpoints
        await writer.write([OutMessage(topic, c.encode(), n) for c, n in zip(checkpoints, notes, strict=True)])
    finally:
        await producer.stop()
    return audit


async def test_a_witness_cosigns_a_running_gateway_and_refuses_every_rewrite(
    broker: Broker, prefix: str, tmp_path: Path
) -> None:
    harness = await Harness(
        broker.bootstrap,
        prefix,
        checkpoint_seconds=0.2,
        idempotent_producer=broker.idempotent_producer,
        trust_producer_time=broker.keeps_producer_time,
    ).setup()
    private = Ed25519PrivateKey.generate()
    cosigner = NoteSigner("witness.test.example", COSIGNATURE_V1, private)
    gateway = gateway_verifiers(KeySet.of(harness.signer), DEFAULT_ORIGIN)
    mine = f"{prefix}gkt.in.*"

    def witness(chains: str = mine, audit: str | None = None) -> Witness:
        return Witness(harness.bootstrap, harness.topics, DEFAULT_ORIGIN, gateway, cosigner, chains, audit_topic=audit)

    state_dir = tmp_path / "state"
    state = WitnessState(state_dir)
    batch = samples()
    async with harness.gateway():
        await harness.publish(batch)
        first = await harness.wait_for_audit(len(batch))
    inbound = {c for c in by_chain(first) if c.startswith(f"{prefix}gkt.in.")}
    # Anyone who can write gkt.checkpoints: garbage, a stranger's note, the gateway's note under another key.
    some = sorted(inbound)[0]
    stranger = Signer.generate("stranger")
    planted = checkpoint_note(Checkpoint(some, 1, "sha256:" + "0" * 64, datetime.now(UTC)), DEFAULT_ORIGIN, stranger)  # type: ignore[arg-type]
    real = checkpoint_note(Checkpoint(some, 1, first[0]["hash"], datetime.now(UTC)), DEFAULT_ORIGIN, harness.signer)  # type: ignore[arg-type]
    hostile = [(some, b"\xff\x00BSN-123456782 " * 40), (some, planted), (sorted(inbound)[-1], real)]
    producer = new_producer(harness.bootstrap)
    await producer.start()
    try:
        for chain, value in hostile:
            await producer.send_and_wait(harness.topics.checkpoints, value, key=chain.encode())
    finally:
        await producer.stop()
    with capture_logs() as logs:
        report = await witness_round(witness(), state)
    assert report.exit_code == 0
    assert not report.refused
    assert report.skipped == len(hostile), "each is passed by and counted, nothing refused for it"
    assert "BSN" not in str(logs), "a sender's bytes never reach a log line"
    assert set(report.cosigned) == inbound, "every inbound chain the gateway wrote is cosigned at its size"
    for chain, size in report.cosigned.items():
        assert size == len(by_chain(first)[chain])
    assert (await witness_round(witness(), state)).cosigned == {}, "nothing new: nothing cosigned"

    # The cosigned checkpoints on gkt.witness carry the gateway's signature and the witness's, both verifying.
    cosigned = [Note.parse(r.value or b"") for r in await harness.records(harness.topics.witness)]
    assert {n.verified([cosigner.verifier])["witness.test.example"] > 0 for n in cosigned} == {True}
    assert all(n.verified([v for v, _ in gateway.values()]) == {DEFAULT_ORIGIN: 0} for n in cosigned)

    # The gateway runs on while no witness runs: it decides as before; the next round catches up.
    async with harness.gateway():
        await harness.publish(batch)  # copies: decided again (duplicates), new records in the same chains
        audit = await harness.wait_for_audit(2 * len(batch))
    grown = await witness_round(witness(), state)
    assert grown.exit_code == 0
    assert grown.cosigned == {c: len(r) for c, r in by_chain(audit).items() if c in inbound}

    # Anyone who may write gkt.checkpoints copies the old checkpoints, as they are, with a client we did not
    # write (librdkafka, zstd, in a transaction): read again after newer ones, they are no rollback.
    old = [r for r in await harness.records(harness.topics.checkpoints) if (r.key or b"").decode() in inbound]
    copies = [(r.key or b"", r.value or b"") for r in old]
    await asyncio.to_thread(copy_records, harness.bootstrap, harness.topics.checkpoints, copies)
    again = await witness_round(witness(), state)
    assert again.exit_code == 0, again.refused
    assert again.cosigned == {}, "nothing new to cosign"

    # The witness as a partner runs it: a process, once, with a state folder of its own.
    pem, jwks = key_files(tmp_path, private, harness)
    common = ["--bootstrap", harness.bootstrap, "--topic-prefix", prefix, "--keys", str(jwks)]
    code, out, err = await run(
        "witness", "--once", "--chains", mine, "--key", str(pem), "--name", "witness.test.example",
        "--state", str(tmp_path / "cron"), *common,
    )  # fmt: skip
    assert code == 0, err
    assert sorted(line for line in out.splitlines() if line.startswith("cosigned ")) == [
        f"cosigned {chain} at {size} records" for chain, size in sorted(grown.cosigned.items())
    ]
    code, vkey, _ = await run("witness", "--print-vkey", "--key", str(pem), "--name", "witness.test.example")
    witnesses = tmp_path / "witnesses.txt"
    witnesses.write_text(vkey)
    code, out, err = await run("audit", "verify", "--witnesses", str(witnesses), "--no-inbound", *common)
    assert code == 0, out + err
    assert f"witnessed: {len(inbound)} chains cosigned by witness.test.example" in out
    checkpoints_file, real_export = tmp_path / "checkpoints.jsonl", tmp_path / "audit.jsonl"
    code, _, err = await run("audit", "export", "--out", str(real_export), "--checkpoints", str(checkpoints_file),
                             *common[:4])  # fmt: skip
    assert code == 0, err

    chains = by_chain(audit)
    nla0, nla1, kvk0 = (f"{prefix}gkt.in.{c}" for c in ("nla/0", "nla/1", "kvk/0"))
    assert min(len(chains[c]) for c in (nla0, nla1, kvk0)) >= 4

    async def attack(name: str, target: str, log: list[bytes], expect: str) -> None:
        """One chain of the log rewritten, the others left out; a witness of that chain reads it."""
        state_copy = tmp_path / f"state-{name}"
        shutil.copytree(state_dir, state_copy)
        head = (len(log), strict_loads(log[-1])["hash"])
        audit_topic = await operator_log(harness, f"{prefix}{name}.", {target: log}, {target: head})
        refused = await witness_round(witness(target, audit_topic), WitnessState(state_copy))
        assert refused.exit_code == 3, name
        assert expect in refused.refused[target], refused.refused[target]
        evidence = state_copy / "evidence" / target.replace("/", "%2F")
        assert {p.name for p in evidence.iterdir()} == {"what.txt", "refused.note", "cosigned.note"}
        assert Note.parse((evidence / "refused.note").read_bytes()).verified([v for v, _ in gateway.values()])
        assert Note.parse((evidence / "cosigned.note").read_bytes()).verified([cosigner.verifier])
        again = await witness_round(witness(target, audit_topic), WitnessState(state_copy))
        assert again.exit_code == 3, "never cosigned again"
        assert target in again.refused
        # The auditor holds the operator's export against the checkpoints the witness cosigned.
        export = tmp_path / f"{name}.jsonl"
        export.write_bytes(b"".join(line + b"\n" for line in log))
        code, out, _ = await run("audit", "verify", "--file", str(export), "--keys", str(jwks), "--checkpoints",
                                   str(checkpoints_file), "--witnesses", str(witnesses))  # fmt: skip
        assert code == 1, out
        assert target in out
        assert "truncated" in out or "tampered" in out, out
        left_out = next(c for c in inbound if c != target)
        assert f"{left_out}: the chain is missing" in out, "a chain left out is reported as truncated"

    def changed(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = [dict(r) for r in records]
        rows[1] = {**rows[1], "outcome": "rejected" if rows[1]["outcome"] != "rejected" else "routed"}
        return rows

    # A record changed and the chain re-linked and re-signed with the gateway's key, and grown by one.
    rows = changed(chains[nla0])
    extra = {**rows[-1], "seq": len(rows), "inbound": {**rows[-1]["inbound"], "offset": 10**6}}
    await attack("rewrite", nla0, rechained([*rows, extra], harness), "no longer extends")
    # The last records removed.
    await attack("truncate", nla1, rechained(chains[nla1][:-2], harness), "rollback")
    # A record changed, the chain re-linked to the same length: another head at a size already cosigned.
    await attack("fork", kvk0, rechained(changed(chains[kvk0]), harness), "fork")
    # The real log still verifies with the witnesses.
    code, out, _ = await run("audit", "verify", "--file", str(real_export), "--keys", str(jwks), "--checkpoints",
                             str(checkpoints_file), "--witnesses", str(witnesses))  # fmt: skip
    assert code == 0, out


async def test_partitions_moving_between_two_gateways_never_look_like_a_rollback(
    kafka: str, prefix: str, tmp_path: Path
) -> None:
    """Operators run several processes: each checkpoints the chains it gives up before they move, so a witness
    running all along (here: the long-running ``gkt witness`` with its metrics) sees every chain only grow."""
    harness = await Harness(kafka, prefix, checkpoint_seconds=0.2, trust_producer_time=True).setup()
    private = Ed25519PrivateKey.generate()
    pem, jwks = key_files(tmp_path, private, harness)
    port = free_port()
    witness = await asyncio.create_subprocess_exec(
        str(GKT), "witness", "--chains", "*", "--key", str(pem), "--name", "witness.test.example",
        "--state", str(tmp_path / "state"), "--interval", "1", "--http-port", str(port),
        "--bootstrap", kafka, "--topic-prefix", prefix, "--keys", str(jwks), stdout=PIPE, stderr=PIPE,
    )  # fmt: skip
    batch = samples()
    async with harness.gateway():
        await harness.publish(batch)
        await harness.wait_for_audit(len(batch))
        async with harness.gateway():  # a second process joins: partitions move, twice over
            await harness.publish(batch)
            await harness.wait_for_audit(2 * len(batch))
        await harness.publish(batch)  # the second left: the first takes its partitions back
        audit = await harness.wait_for_audit(3 * len(batch))
    sizes = {c: len(r) for c, r in by_chain(audit).items()}
    metrics = ""
    for _ in range(200):  # the witness cosigns every chain at its final size within a few rounds
        metrics = await asyncio.to_thread(scrape, port)
        if all(f'gkt_witness_cosigned_size{{chain="{c}"}} {float(n)}' in metrics for c, n in sizes.items()):
            break
        await asyncio.sleep(0.2)
    assert witness.returncode is None, "a witness that saw a rollback would have exited 3"
    assert "gkt_witness_refused" not in metrics.replace("# HELP gkt_witness_refused", "").replace(
        "# TYPE gkt_witness_refused", ""
    )
    for chain, size in sizes.items():
        assert f'gkt_witness_cosigned_size{{chain="{chain}"}} {float(size)}' in metrics, chain
    witness.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(witness.communicate(), 30)
    assert witness.returncode == 0, err.decode()


def key_files(folder: Path, private: Ed25519PrivateKey, harness: Harness) -> tuple[Path, Path]:
    """The witness's private key as PEM, and the gateway's public keys as a JWK set, as files."""
    pem, jwks = folder / "witness.pem", folder / "gateway-keys.json"
    pem.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))  # fmt: skip
    jwks.write_text(json.dumps(KeySet.of(harness.signer).as_jwks()))
    return pem, jwks


def copy_records(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    """Records written again by librdkafka, compressed, in one transaction."""
    producer = Producer({"bootstrap.servers": bootstrap, "compression.type": "zstd", "transactional.id": "copier"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for key, value in records:
        producer.produce(topic, value, key=key)
    producer.commit_transaction(30)


def scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return ""
