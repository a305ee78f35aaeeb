"""The processor and the client memory (spec/selection.md): each signal counts the signals before it about its
client, the audit record names the client by keyed hash, and only routed and released reports count."""

import json
from datetime import timedelta
from typing import Any

from gateway.audit.index import AuditIndex
from gateway.demo import samples as s
from gateway.messages import AuditRecord, validate
from gateway.pipeline import Rules
from gateway.processor import BatchResult, Processor
from gateway.selection.history import ClientHistory
from gateway.selection.key import ClientKey
from gateway.signing import Signer
from tests.helpers import NOW, inbound, kvk, nla

KEY = ClientKey(b"s" * 32)
CLIENT = s.KNOWN_CLIENT_MKB


class Gateway:
    """One processor with a client memory, deciding records one at a time on their partners' chains."""

    def __init__(self, rules: Rules) -> None:
        self.index = AuditIndex()
        self.processor = Processor(rules, Signer.generate("gw"), self.index, "urn:x", clients=ClientHistory(KEY))
        self.offsets: dict[str, int] = {}

    def decide(self, value: bytes, partner: str = "nla", minutes: int = 0) -> tuple[dict[str, Any], Any]:
        offset = self.offsets[partner] = self.offsets.get(partner, -1) + 1
        kid = "kvk-2025-01" if partner == "kvk" else "nla-2025-01"
        record = inbound(value, partner=partner, kid=kid, offset=offset, at=NOW + timedelta(minutes=minutes))
        result: BatchResult = self.processor.process(
            [record], {record.position.chain: self.index.head(record.position.chain)}
        )
        [audit] = [json.loads(message.value) for message in result.audits]
        self.index.apply(audit)
        validate(AuditRecord, result.audits[0].value)  # the published model, with client and eerdere
        signals = [json.loads(m.value)["data"] for m in result.outputs if m.topic.startswith("bd.")]
        return audit, (signals[0] if signals else None)


def test_each_signal_counts_the_earlier_ones_about_its_client(rules: Rules) -> None:
    gateway = Gateway(rules)
    first, first_signal = gateway.decide(nla(), minutes=0)
    assert first["client"] == KEY.digest(CLIENT)
    assert first["eerdere"] == {"aantal": 0, "recent": []}
    assert first_signal["eerdereSignalen"] == {"aantal": 0, "recent": []}

    second, second_signal = gateway.decide(kvk(at=NOW + timedelta(minutes=5)), partner="kvk", minutes=5)
    assert second["client"] == first["client"]  # another partner, the same client
    assert second_signal["eerdereSignalen"] == {
        "aantal": 1,
        "recent": [
            {"signaalId": first_signal["signaalId"], "partner": "nla", "ontvangenOp": "2025-06-02T10:00:00.000Z"}
        ],
    }
    assert second["eerdere"] == {"aantal": 1, "recent": [first_signal["signaalId"]]}

    other, other_signal = gateway.decide(nla(client=s.KNOWN_CLIENT_GO, at=NOW + timedelta(minutes=9)), minutes=9)
    assert other["client"] != first["client"]
    assert other_signal["eerdereSignalen"]["aantal"] == 0


def test_duplicates_quarantines_and_rejections_neither_count_nor_name_a_client(rules: Rules) -> None:
    gateway = Gateway(rules)
    value = nla()
    gateway.decide(value)
    retry, _ = gateway.decide(value, minutes=1)  # the same report again: a duplicate, not an earlier signal
    held, _ = gateway.decide(nla(client=s.UNKNOWN_CLIENT, at=NOW + timedelta(minutes=2)), minutes=2)
    weak, _ = gateway.decide(nla(oordeel="vermoeden", at=NOW + timedelta(minutes=3)), minutes=3)
    assert [r["outcome"] for r in (retry, held, weak)] == ["duplicate", "quarantined", "rejected"]
    for record in (retry, held, weak):
        assert "client" not in record
        assert "eerdere" not in record
    later, signal = gateway.decide(nla(at=NOW + timedelta(minutes=4)), minutes=4)
    assert later["eerdere"]["aantal"] == 1
    assert signal["eerdereSignalen"]["aantal"] == 1


def test_no_kvk_nummer_reaches_the_audit_record(rules: Rules) -> None:
    gateway = Gateway(rules)
    audit, _ = gateway.decide(kvk(), partner="kvk")
    written = json.dumps(audit)
    for number in (CLIENT, "65432109"):
        assert number not in written


def test_without_a_client_memory_signals_say_null_and_records_name_no_client(rules: Rules) -> None:
    index = AuditIndex()
    record = inbound(nla())
    result = Processor(rules, Signer.generate("gw"), index, "urn:x").process(
        [record], {record.position.chain: index.head(record.position.chain)}
    )
    [audit] = [json.loads(m.value) for m in result.audits]
    [signal] = [json.loads(m.value)["data"] for m in result.outputs if m.topic.startswith("bd.")]
    assert signal["eerdereSignalen"] is None
    assert "client" not in audit
