"""Through the real broker: a partner reads why in the gateway's words, with CloudEvents' own names as they are.

A standard CloudEvents attribute (``subject``) is named, not masked; a 2.0 report labelled 1.1 is told which
version its data fits; a field the contract does not have is said so, not in pydantic's words. The receipt on
``gkt.feedback.nla`` carries it, and the audit record the same codes.
"""

from datetime import UTC, datetime

import pytest

from contracts.jsonio import strict_loads
from gateway.demo import samples as s
from gateway.demo.scenario import Sample
from gateway.reasons import Outcome
from gateway.types import PartnerId
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka


def signed(event: dict[str, object]) -> Sample:
    value = s.encode(event)
    headers = (("gkt-signature", s.sign(value, "nla-2025-01")),)
    return Sample("words", PartnerId("nla"), value, headers, Outcome.REJECTED)


async def test_refusals_reach_the_partner_in_the_gateways_words(kafka: str, prefix: str) -> None:
    harness = await Harness(kafka, prefix).setup()
    now = datetime.now(UTC)
    with_subject = {**s.event(s.nla_report(), time=now), "subject": "Jan de Vries"}
    mislabelled = s.event(s.nla_report_20(), time=now, version="1.1")
    async with harness.gateway():
        await harness.publish([signed(with_subject), signed(mislabelled)])
        await harness.wait_for_audit(2)
    receipts = [strict_loads(r.value or b"") for r in await harness.records(harness.topics.feedback(PartnerId("nla")))]
    details = {reason["path"]: reason["detail"] for receipt in receipts for reason in receipt["reasons"]}
    assert details["/subject"] == (
        "attribute subject is a CloudEvents attribute this profile does not take (docs/partners.md, the record)"
    )
    assert (
        details["/dataschema"]
        == f"the data fits version 2.0 of {s.NLA_TYPE}, not 1.1: is dataschema the right version?"
    )
    assert any("is not a field of this contract version" in detail for detail in details.values())
    assert not any("Extra inputs" in detail or "Input should" in detail for detail in details.values())
    assert "Jan de Vries" not in str(receipts), "the attribute's name is shown, never its value"
