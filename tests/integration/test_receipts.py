"""``gkt receipt`` reads a feedback topic anyone with write access could have written to: only receipts are
taken, matched on what they say (never on the record key), and a forged one is shown as not verifying."""

import json
from pathlib import Path

import pytest

from contracts.jsonio import dumps
from gateway.cli.partner import receipts_of, shown
from gateway.demo.run import demo_settings
from gateway.kafka.admin import ensure_topics
from gateway.kafka.runner import new_partner_producer
from gateway.keyset import KeySet
from gateway.provision.plan import TopicSpec
from gateway.signing import Signer
from gateway.topics import Topics
from gateway.types import PartnerId
from tests.e2e.conftest import gkt

pytestmark = pytest.mark.kafka


def receipt(event_id: str, offset: int) -> bytes:
    return dumps(
        {"id": event_id, "source": "urn:nld:oin:00000099111222333000", "outcome": "accepted", "reasons": [],
         "inbound": {"topic": "gkt.in.nla", "partition": 0, "offset": offset}, "original": None,
         "event_digest": "sha256:" + "0" * 64, "signal_id": None, "decided_at": "2026-03-02T10:00:00.000Z"}
    )  # fmt: skip


async def test_only_receipts_are_taken_and_a_forged_one_does_not_verify(
    kafka: str, prefix: str, tmp_path: Path
) -> None:
    feedback = Topics(prefix).feedback(PartnerId("nla"))
    await ensure_topics(kafka, [TopicSpec(feedback, 1, {})])
    gateway = Signer.generate("gw-1")
    genuine = receipt("nla-1", 7)
    written = [
        (b"not json at all \xff", b"nla-1", []),  # keyed as the receipt would be
        (b"[" * 5000 + b"]" * 5000, b"nla-1", []),
        (dumps(["nla-1"]), b"nla-1", []),
        (dumps({"id": "nla-1"}), b"nla-1", []),  # names no inbound record: no receipt
        (receipt("nla-1", 7), b"other-key", [("gkt-signature", b"forged..sig")]),  # well formed, not signed by us
        (genuine, b"nla-1", [("gkt-signature", gateway.sign(genuine).encode())]),
        (receipt("nla-2", 8), b"nla-1", []),  # another event, under this key
    ]
    producer = new_partner_producer(kafka)
    await producer.start()
    try:
        for value, key, headers in written:
            await producer.send_and_wait(feedback, value, key=key, headers=headers)
    finally:
        await producer.stop()

    settings = demo_settings(topic_prefix=prefix, bootstrap=kafka)
    found = await receipts_of(settings, PartnerId("nla"), "nla-1", 30)
    keys = KeySet.of(gateway)
    assert [(r.key, shown(r, keys)["signature_verified"]) for r in found] == [(b"other-key", False), (b"nla-1", True)]
    by_position = await receipts_of(settings, PartnerId("nla"), "gkt.in.nla/0/8", 30)
    assert [json.loads(r.value or b"")["id"] for r in by_position] == ["nla-2"]

    (tmp_path / "keys.json").write_text(json.dumps(keys.as_jwks()))
    where = ("--bootstrap", kafka, "--topic-prefix", prefix, "--keys", str(tmp_path / "keys.json"))
    result = gkt("receipt", "--partner", "nla", "--id", "nla-1", *where)
    assert result.returncode == 1
    assert "a receipt's signature does not verify" in result.stderr
    assert [r["signature_verified"] for r in json.loads(result.stdout)["receipts"]] == [False, True]
    assert gkt("receipt", "--partner", "nla", "--id", "nla 1; rm", *where).returncode == 2
