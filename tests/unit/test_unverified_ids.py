"""An event id is the sender's word until the signature verifies: masked in the audit record and log (G7)."""

import json

from contracts.jsonio import strict_loads
from gateway.audit.index import AuditIndex
from gateway.audit.record import ChainHead
from gateway.demo import samples as s
from gateway.processor import Processor
from gateway.signing import Signer
from gateway.types import ChainId
from tests.helpers import NOW, inbound, make_rules, nla_event

PLANTED = "BSN-123456782.Jansen"


def test_an_unauthenticated_id_is_masked_in_the_audit_record_and_kept_in_the_receipt() -> None:
    value = nla_event(s.nla_report(), id=PLANTED)
    forged = inbound(value, kid="nla-2024-01")  # a key not valid at NOW: the signature does not count
    signed = inbound(nla_event(s.nla_report(), id="NLA.2025.000123"), offset=1)
    chain = ChainId("gkt.in.nla/0")
    processor = Processor(make_rules(), Signer.generate("gw-1"), AuditIndex(), "urn:x", clock=lambda: NOW)
    result = processor.process([forged, signed], {chain: ChainHead.empty(chain)})
    first, second = (strict_loads(m.value) for m in result.audits)
    assert first["outcome"] == "rejected"
    assert first["event"]["id"] == "xxx-999999999.xxxxxx"
    assert PLANTED not in json.dumps(first)
    [receipt] = [
        strict_loads(m.value)
        for m in result.outputs
        if m.topic.startswith("gkt.feedback.") and m.key == PLANTED.encode()
    ]
    assert receipt["id"] == PLANTED, "the partner's own receipt names its report"
    assert second["event"]["id"] == "NLA.2025.000123", "an authenticated id is recorded as sent"
    assert first["event"]["source"] == "xxx:xxx:xxx:99999999999999999999"


def test_the_decision_log_line_masks_an_unauthenticated_id() -> None:
    from gateway.kafka.service import decided_fields

    forged = inbound(nla_event(s.nla_report(), id=PLANTED), kid="nla-2024-01")
    chain = ChainId("gkt.in.nla/0")
    processor = Processor(make_rules(), Signer.generate("gw-1"), AuditIndex(), "urn:x", clock=lambda: NOW)
    [decision] = processor.process([forged], {chain: ChainHead.empty(chain)}).decisions
    fields = decided_fields(decision)
    assert fields["event_id"] == "xxx-999999999.xxxxxx"
    assert PLANTED not in repr(fields)
