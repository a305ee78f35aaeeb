"""Through the broker: a signal names the earlier signals about its client (spec/selection.md), from any
partner, after a restart and after a partition moves to another process; the audit log knows the client
only by keyed hash."""

import asyncio
import json
import uuid
from typing import Any

import pytest

from contracts.jsonio import dumps
from gateway.audit.verify import verify
from gateway.demo import samples as s
from gateway.demo.scenario import Sample
from gateway.inbound import Position
from gateway.kafka.service import GatewayService
from gateway.keyset import KeySet
from gateway.reasons import Outcome
from gateway.selection.earlier_check import check_earlier
from gateway.types import PartnerId
from tests.helpers import now
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka

CLIENT = s.KNOWN_CLIENT_MKB
# Every KVK-nummer the reports carry: none may reach the audit log in clear.
NUMBERS = (CLIENT, "65432109", "76543210")


def report(partner: str) -> Sample:
    """A report about CLIENT from ``partner``, dated now, with an id of its own."""
    if partner == "kvk":
        event = s.event(s.kvk_report(CLIENT), time=now(), source=s.KVK_SOURCE, report_type=s.KVK_TYPE,
                        event_id=f"kvk-{uuid.uuid4()}")  # fmt: skip
        kid = "kvk-2025-01"
    else:
        event, kid = s.event(s.nla_report(CLIENT), time=now(), event_id=f"nla-{uuid.uuid4()}"), "nla-2025-01"
    value = s.encode(event)
    return Sample(event["id"], PartnerId(partner), value, (("gkt-signature", s.sign(value, kid)),), Outcome.ROUTED,
                  destination="bd.detectie.mkb", key=CLIENT.encode())  # fmt: skip


async def decide(harness: Harness, partner: str) -> tuple[Position, dict[str, Any], dict[str, Any]]:
    """Publish one report, wait for its audit record; return its position, audit record and signal."""
    [position] = await harness.publish([report(partner)])
    for _ in range(600):  # 60 s at most
        audit = {Position.of(a["inbound"]): a for a in await harness.audit()}
        if position in audit:
            break
        await asyncio.sleep(0.1)
    record = audit[position]
    assert record["outcome"] == "routed", record["reasons"]
    signal_id = record["destination"]["signal_id"]
    for _ in range(100):
        signals = [json.loads(r.value or b"") for r in await harness.records(record["destination"]["topic"])]
        found = [signal for signal in signals if signal["id"] == signal_id]
        if found:
            return position, record, found[0]["data"]
        await asyncio.sleep(0.1)
    raise AssertionError("the signal of a routed report is not on its queue")


def named(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["partner"], e["signaalId"]) for e in data["eerdereSignalen"]["recent"]]


async def owns(service: GatewayService, topic: str, partition: int) -> None:
    for _ in range(300):  # 30 s at most: the group rebalances after a member leaves
        consumer = service._consumer
        if consumer is not None and any((tp.topic, tp.partition) == (topic, partition) for tp in consumer.assignment()):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{topic}/{partition} did not move to the remaining process")


async def test_earlier_signals_across_partners_restarts_and_partition_moves(harness: Harness) -> None:
    signals: list[tuple[str, str]] = []  # (partner, signal id), oldest first

    async def next_report(partner: str) -> Position:
        position, record, data = await decide(harness, partner)
        # Every earlier signal about the client, newest first; the audit record names the same ids.
        assert data["eerdereSignalen"]["aantal"] == len(signals)
        assert named(data) == list(reversed(signals))
        assert record["eerdere"] == {"aantal": len(signals), "recent": [sid for _, sid in reversed(signals)]}
        assert record["client"].startswith("hmac-sha256:")
        signals.append((partner, data["signaalId"]))
        return position

    async with harness.gateway():
        await next_report("nla")
        await next_report("kvk")  # another partner's report about the same client counts the NLA one
        await next_report("nla")
    async with harness.gateway():  # a restart: the memory comes back from the audit log
        await next_report("nla")
    first = harness.gateway()
    await first.__aenter__()
    try:
        async with harness.gateway() as second:
            await next_report("kvk")  # two processes: whichever owns the partition knows all four
            await first.__aexit__(None, None, None)
            first = None
            moved = await harness.publish([report("nla")])  # one more, on whatever partition the key picks
            await owns(second, moved[0].topic, moved[0].partition)
            _, record, data = await decide(harness, "nla")  # and one after the partition moved
    finally:
        if first is not None:
            await first.__aexit__(None, None, None)
    # The report published while the partition moved was decided too, by one process or the other.
    audit = await harness.audit()
    assert data["eerdereSignalen"]["aantal"] == len(signals) + 1
    assert named(data)[1:] == list(reversed(signals))
    assert record["eerdere"]["recent"][1:] == [sid for _, sid in reversed(signals)]

    assert verify(audit, KeySet.of(harness.signer)).ok
    assert check_earlier(audit) == []  # what replay checks of eerdere
    written = b"".join(dumps(a) for a in audit)
    for number in NUMBERS:
        assert number.encode() not in written
    assert len({a["client"] for a in audit if "client" in a}) == 1  # one client, by one keyed hash
