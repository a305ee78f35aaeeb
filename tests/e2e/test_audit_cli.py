"""``gkt audit verify`` and ``export``: every kind of tampering is caught at the right record."""

import copy
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from gateway.audit.record import record_hash
from gateway.demo.scenario import samples
from gateway.keyset import GatewayKey, KeySet
from gateway.signing import Signer
from tests.e2e.conftest import gkt
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka

Records = list[dict[str, Any]]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def exported(kafka: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Harness, Path, Path]:
    """One gateway run and its export, shared by the tests of this module (they only read it)."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    tmp_path = tmp_path_factory.mktemp("audit")
    harness = await Harness(kafka, prefix).setup()
    batch = samples()
    async with harness.gateway():
        await harness.publish(batch)
        await harness.wait_for_audit(len(batch))
    out = tmp_path / "audit.jsonl"
    result = gkt("audit", "export", "--out", str(out), "--bootstrap", kafka, "--topic-prefix", prefix)
    assert result.returncode == 0, result.stderr
    assert f"exported {len(batch)} audit records" in result.stdout
    # Not a terminal (a pipe, as a log collector reads it): plain progress on stderr, here its closing line.
    assert f"exporting: done, {len(batch)} records in " in result.stderr
    keys = tmp_path / "gateway-keys.json"
    keys.write_text(json.dumps(KeySet.of(harness.signer).as_jwks()))
    return harness, out, keys


def load(path: Path) -> Records:
    return [json.loads(line) for line in path.read_text().splitlines()]


def save(path: Path, records: Records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def nla_chain(records: Records) -> Records:
    """The longest chain, in order: where the tampering happens."""
    chains: dict[str, Records] = {}
    for record in records:
        chains.setdefault(record["chain"], []).append(record)
    return max(chains.values(), key=len)


def verify_file(path: Path, keys: Path) -> tuple[int, str]:
    result = gkt("audit", "verify", "--file", str(path), "--keys", str(keys))
    return result.returncode, result.stdout + result.stderr


def test_an_untouched_export_verifies(exported: tuple[Harness, Path, Path]) -> None:
    _, out, keys = exported
    code, output = verify_file(out, keys)
    assert code == 0, output
    assert "every chain verifies" in output
    assert "26 records" in output


def tamper(records: Records, change: Callable[[Records], None]) -> Records:
    changed = copy.deepcopy(records)
    chain = nla_chain(changed)
    change(chain)
    others = [r for r in changed if r["chain"] != chain[0]["chain"]]
    return others + chain


def flip(record: dict[str, Any], *path: str) -> None:
    node = record
    for part in path[:-1]:
        node = node[part]
    value = node[path[-1]]
    node[path[-1]] = (
        value + 1 if isinstance(value, int) else (str(value)[:-1] + ("x" if str(value)[-1:] != "x" else "y"))
    )


@pytest.mark.parametrize(
    "field",
    [
        ("outcome",),
        ("decided_at",),
        ("event", "id"),
        ("event", "digest"),
        ("inbound", "offset"),
        ("versions", "policy"),
        ("prev",),
        ("hash",),
    ],
)
def test_one_changed_byte_in_any_field_is_caught_at_that_record(
    exported: tuple[Harness, Path, Path], tmp_path: Path, field: tuple[str, ...]
) -> None:
    _, out, keys = exported
    records = load(out)
    target = nla_chain(records)[3]
    save(tmp_path / "t.jsonl", tamper(records, lambda chain: flip(chain[3], *field)))
    code, output = verify_file(tmp_path / "t.jsonl", keys)
    assert code == 1
    assert f"tampered: {target['chain']} seq 3:" in output, output


@pytest.mark.parametrize(
    ("change", "seq", "what"),
    [
        (lambda c: c.pop(3), 4, "seq 4 follows 2"),  # deleted
        (lambda c: c.insert(4, copy.deepcopy(c[1])), 1, "seq 1 follows 3"),  # inserted
        (lambda c: c.__setitem__(slice(3, 5), [c[4], c[3]]), 4, "seq 4 follows 2"),  # reordered
        (lambda c: c.insert(4, copy.deepcopy(c[3])), 3, "seq 3 follows 3"),  # duplicated
    ],
)
def test_deleted_inserted_reordered_and_duplicated_records(
    exported: tuple[Harness, Path, Path], tmp_path: Path, change: Callable[[Records], None], seq: int, what: str
) -> None:
    _, out, keys = exported
    save(tmp_path / "t.jsonl", tamper(load(out), change))
    code, output = verify_file(tmp_path / "t.jsonl", keys)
    assert code == 1
    assert f"seq {seq}: {what}" in output, output


def test_a_rehashed_record_signed_by_another_key(exported: tuple[Harness, Path, Path], tmp_path: Path) -> None:
    harness, out, keys = exported
    forger = Signer.generate(harness.signer.kid)  # claims the gateway's kid

    def forge(chain: Records) -> None:
        chain[-1]["outcome"] = "rejected"
        body = {k: v for k, v in chain[-1].items() if k not in ("hash", "sig")}
        chain[-1]["hash"] = record_hash(body)
        chain[-1]["sig"] = forger.sign(chain[-1]["hash"].encode())

    save(tmp_path / "t.jsonl", tamper(load(out), forge))
    code, output = verify_file(tmp_path / "t.jsonl", keys)
    assert code == 1
    assert "sig does not verify" in output


def test_a_key_not_valid_at_decided_at_and_an_unknown_key(exported: tuple[Harness, Path, Path], tmp_path: Path) -> None:
    harness, out, _ = exported
    from datetime import UTC, datetime

    retired = tmp_path / "retired.json"
    retired.write_text(
        json.dumps(
            KeySet(
                [GatewayKey(harness.signer.kid, harness.signer.key, not_after=datetime(2025, 1, 1, tzinfo=UTC))]
            ).as_jwks()
        )
    )
    code, output = verify_file(out, retired)
    assert code == 1
    assert "was not valid at decided_at" in output
    other = tmp_path / "other.json"
    other.write_text(json.dumps(KeySet.of(Signer.generate("someone-else")).as_jwks()))
    code, output = verify_file(out, other)
    assert code == 1
    assert "unverifiable" in output
    assert "tampered" not in output


def test_a_line_that_is_not_json(exported: tuple[Harness, Path, Path], tmp_path: Path) -> None:
    _, out, keys = exported
    (tmp_path / "t.jsonl").write_text(out.read_text() + "{not json\n")
    code, output = verify_file(tmp_path / "t.jsonl", keys)
    assert code == 1
    assert "not an I-JSON audit record" in output


def test_a_repeated_member_name_is_tampering(exported: tuple[Harness, Path, Path], tmp_path: Path) -> None:
    """A reader that keeps the last of two names would see another outcome than the one hashed."""
    _, out, keys = exported
    lines = out.read_text().splitlines()
    record = json.loads(lines[0])
    forged = '{"outcome":"routed",' + lines[0][1:]
    assert json.loads(forged)["outcome"] == record["outcome"]  # the real one comes last and still hashes right
    (tmp_path / "t.jsonl").write_text("\n".join([forged, *lines[1:]]) + "\n")
    code, output = verify_file(tmp_path / "t.jsonl", keys)
    assert code == 1
    assert "tampered" in output
    assert "a member name repeats" in output


async def test_kafka_mode_finds_inbound_records_without_a_decision(exported: tuple[Harness, Path, Path]) -> None:
    harness, _, keys = exported
    env = {**os.environ, "GKT_GATEWAY_KEYS": str(keys)}
    ok = gkt(
        "audit", "verify", "--bootstrap", harness.bootstrap, "--topic-prefix", harness.settings.topic_prefix, env=env
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # Records the gateway never decided look, to the verifier, like a truncated chain.
    await harness.publish(samples()[:3])
    truncated = gkt(
        "audit", "verify", "--bootstrap", harness.bootstrap, "--topic-prefix", harness.settings.topic_prefix, env=env
    )
    assert truncated.returncode == 1
    assert "missing" in truncated.stdout
    assert "has no decision" in truncated.stdout


def test_a_forged_outcome_never_counts_and_the_problem_is_said_in_words(
    exported: tuple[Harness, Path, Path], tmp_path: Path
) -> None:
    _, out, keys = exported
    records = load(out)
    target = nla_chain(records)[3]
    forged = "rejected" if target["outcome"] == "routed" else "routed"
    save(tmp_path / "t.jsonl", tamper(records, lambda chain: chain[3].__setitem__("outcome", forged)))
    result = gkt("audit", "verify", "--file", str(tmp_path / "t.jsonl"), "--keys", str(keys), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    # Totals are over records a verified signature covers: the broken chain's records are not among them.
    assert sum(report["outcomes"].values()) == report["verified"] < report["records"]
    assert report["chains"][target["chain"]]["verified"] < 4
    [problem] = report["problems"]
    assert problem["plain"] == f"record 3 of chain {target['chain']} was changed after it was written"
    words = verify_file(tmp_path / "t.jsonl", keys)[1]
    assert f"in words: record 3 of chain {target['chain']} was changed after it was written" in words


async def test_audit_records_copied_and_backdated_by_another_client_are_caught_from_kafka(
    kafka: str, tmp_path: Path
) -> None:
    """Anyone who may write gkt.audit copies records with a client we did not write (librdkafka, zstd, in a
    transaction): a record written again, and an older one again with a backdated timestamp. Verify from Kafka
    reads the copies' bytes as the gateway wrote them (in place) and still names the chain they break."""
    from confluent_kafka import Producer

    from gateway.audit.in_place import read_in_place

    harness = await Harness(kafka, f"t{uuid.uuid4().hex[:10]}.").setup()
    batch = samples()
    async with harness.gateway():
        await harness.publish(batch)
        await harness.wait_for_audit(len(batch))
    written = await harness.records(harness.topics.audit)
    chain = max({r.key for r in written}, key=lambda key: sum(r.key == key for r in written))
    ours = [r for r in written if r.key == chain]
    keys = tmp_path / "gateway-keys.json"
    keys.write_text(json.dumps(KeySet.of(harness.signer).as_jwks()))
    env = {**os.environ, "GKT_GATEWAY_KEYS": str(keys)}
    command = ("audit", "verify", "--json", "--bootstrap", kafka, "--topic-prefix", harness.settings.topic_prefix)
    assert gkt(*command, env=env).returncode == 0

    producer = Producer({"bootstrap.servers": kafka, "compression.type": "zstd", "transactional.id": uuid.uuid4().hex})
    producer.init_transactions()
    producer.begin_transaction()
    last, older = ours[-1], ours[0]
    assert last.value is not None
    assert read_in_place(last.value) is not None, "the copies are read in place, not parsed"
    producer.produce(harness.topics.audit, last.value, key=chain, partition=last.position.partition)
    producer.produce(
        harness.topics.audit, older.value, key=chain, partition=older.position.partition, timestamp=86_400_000
    )
    producer.commit_transaction()

    result = gkt(*command, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    problems = [(p["chain"], p["kind"]) for p in report["problems"]]
    assert problems == [(chain.decode(), "tampered")]
    assert report["problems"][0]["what"].startswith(f"seq {len(ours) - 1} follows {len(ours) - 1}")
    assert report["records"] == len(written) + 2


def test_a_forged_chain_name_is_never_printed(exported: tuple[Harness, Path, Path], tmp_path: Path) -> None:
    """A line whose chain is a person's name and a BSN, its hash made to match: verify says a chain was
    tampered with, by its shape only, on stdout and in --json."""
    _, out, keys = exported
    lines = out.read_text().splitlines()
    record = json.loads(lines[0])
    record["chain"] = "Jansen BSN 123456782"
    record["hash"] = record_hash(record)
    (tmp_path / "t.jsonl").write_text("\n".join([*lines, json.dumps(record)]) + "\n")
    code, output = verify_file(tmp_path / "t.jsonl", keys)
    as_json = gkt("audit", "verify", "--json", "--file", str(tmp_path / "t.jsonl"), "--keys", str(keys))
    assert code == as_json.returncode == 1
    assert "<xxxxxx xxx 999999999>" in output
    for shown in (output, as_json.stdout + as_json.stderr):
        assert "123456782" not in shown
        assert "Jansen" not in shown
