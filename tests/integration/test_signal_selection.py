"""Through the broker: signal 1.2 carries the partner's substantiation, free texts only where forwarded, and a
KVK report's unknown period as null (spec/selection.md)."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.signal import Signal
from gateway.demo import samples as s
from gateway.demo.scenario import SCENARIO_NOW, Sample
from gateway.reasons import Outcome
from gateway.types import PartnerId
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka

FORWARDED = "Werkgever bepaalt de werktijden en het gereedschap."
HELD_BACK = "Aangetroffen door inspecteur; zie proces-verbaal."


def sample(partner: str, kid: str, event: dict[str, Any], at: datetime) -> Sample:
    value = s.encode(event)
    client = str(event["data"]["opdrachtgever"]["kvkNummer"]).encode()
    return Sample(event["id"], PartnerId(partner), value, (("gkt-signature", s.sign(value, kid)),), Outcome.ROUTED,
                  destination="bd.detectie.mkb", timestamp=at, key=client)  # fmt: skip


async def test_signal_12_through_the_broker(kafka: str, prefix: str) -> None:
    harness = await Harness(kafka, prefix).setup()
    nla_20 = s.nla_report_20()
    nla_20["indicatoren"][0]["toelichting"] = FORWARDED
    nla_20["toelichting"] = FORWARDED
    in_2026 = s.event(nla_20, time=SCENARIO_NOW, version="2.0", event_id="nla-forwarded")
    nla_10 = s.nla_report()
    nla_10["indicatoren"][0]["toelichting"] = HELD_BACK  # agreed as a field in 2025.1, not forwarded
    in_2025 = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    held = s.event(nla_10, time=in_2025, event_id="nla-held-back")
    registration = s.event(s.kvk_report(), time=SCENARIO_NOW, source=s.KVK_SOURCE, report_type=s.KVK_TYPE,
                           event_id="kvk-no-period")  # fmt: skip
    ht_in_2025 = s.event(s.nla_report(s.KNOWN_CLIENT_HT), time=in_2025, event_id="nla-ht-policy-1")
    batch = [
        sample("nla", "nla-2025-01", ht_in_2025, in_2025),
        sample("nla", "nla-2025-01", in_2026, SCENARIO_NOW),
        sample("nla", "nla-2025-01", held, in_2025),
        sample("kvk", "kvk-2025-01", registration, SCENARIO_NOW),
    ]
    async with harness.gateway():
        await harness.publish(batch)
        audit = await harness.wait_for_audit(len(batch))
    assert [a["outcome"] for a in audit] == ["routed"] * 4
    # Policy version 1 (2025) did not read HT levels: the signal passes none on, though the reference data has one.
    [ht] = [json.loads(r.value or b"")["data"] for r in await harness.records(f"{prefix}bd.ht.kwaliteitsgesprek")]
    assert (ht["handhaving"]["beleid"], ht["handhaving"]["htNiveau"]) == ("handhavingsplan-2025:1", None)
    signals = {
        Signal.model_validate(json.loads(r.value or b"")["data"], strict=False).melding.id: r
        for r in await harness.records(f"{prefix}bd.detectie.mkb")
    }
    data = {event_id: Signal.model_validate(json.loads(r.value or b"")["data"], strict=False)
            for event_id, r in signals.items()}  # fmt: skip
    assert set(data) == {"nla-forwarded", "nla-held-back", "kvk-no-period"}
    for record in signals.values():
        assert json.loads(record.value or b"")["dataschema"].endswith(":1.2")

    forwarded = data["nla-forwarded"].onderbouwing
    assert forwarded is not None
    assert [(i.code, i.bron, i.toelichting) for i in forwarded.indicatoren] == [
        ("GEZAG", "waarneming", FORWARDED),
        ("INBEDDING", "verklaring", None),
        ("LOON", "document", None),
    ]
    assert forwarded.toelichting == FORWARDED
    held_back = data["nla-held-back"].onderbouwing
    assert held_back is not None
    assert [i.toelichting for i in held_back.indicatoren] == [None, None, None]

    kvk = data["kvk-no-period"]
    assert kvk.periode is None
    assert (kvk.handhaving.periodeCorrigeerbaar, kvk.handhaving.boeteMogelijk) == (None, None)
    assert kvk.onderbouwing is not None
    assert kvk.onderbouwing.inspectieDatum.isoformat() == "2025-02-03"  # type: ignore[union-attr]

    # Free text goes to detection only: never to the audit log, a receipt or anywhere else the gateway writes.
    for topic in (harness.topics.audit, harness.topics.feedback(PartnerId("nla")), harness.topics.deadletter):
        for record in await harness.records(topic):
            assert FORWARDED.encode() not in (record.value or b"")
            assert HELD_BACK.encode() not in (record.value or b"")
    for record in await harness.records(f"{prefix}bd.detectie.mkb"):
        assert HELD_BACK.encode() not in (record.value or b"")
