"""The demo's review story (spec/review.md): what happens to the quarantined samples, verdict by verdict.

Each step is a verdict a demo reviewer signs and publishes, with the outcome
the gateway must give it; the demo checks every one like the samples.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts.jsonio import dumps, strict_loads
from gateway.demo import samples as s
from gateway.errors import BrokerError
from gateway.inbound import InboundRecord, Position
from gateway.kafka.follower import read_all
from gateway.kafka.runner import new_partner_producer
from gateway.pipeline import Rules
from gateway.review.desk import send_and_wait
from gateway.review.verdict import Verdict, VerdictKind
from gateway.signing import sign_detached

PILOT = "KVK signal in the pilot weeks"
UNKNOWN = "NLA report, client unknown"
NO_LEVEL = "NLA report, client in HT, level unknown"
NEW_CLIENT = {
    "kvkNummer": s.UNKNOWN_CLIENT,
    "segment": "mkb",
    "horizontaalToezichtLoonheffingen": False,
    "aanwijzingDatum": None,
    "modelovereenkomstTot": None,
}


@dataclass(frozen=True, slots=True)
class Step:
    """One verdict on the item held for ``sample``, or (``kind`` None) the reference update in between."""

    label: str
    sample: str
    kind: VerdictKind | None
    reviewer: str
    outcome: str
    codes: tuple[str, ...] = ()
    destination: str | None = None


STORY: tuple[Step, ...] = (
    Step("first reviewer releases", PILOT, VerdictKind.RELEASE, "r-0001", "pending"),
    Step("the same reviewer again", PILOT, VerdictKind.RELEASE, "r-0001", "rejected", ("VERDICT_REPEATED",)),
    Step("second reviewer releases", PILOT, VerdictKind.RELEASE, "r-0002", "released", destination="bd.detectie.mkb"),
    Step("recheck: client still unknown", UNKNOWN, VerdictKind.RECHECK, "r-0003", "pending", ("REFERENCE_UNKNOWN",)),
    Step("reference data gains the client", UNKNOWN, None, "", ""),
    Step("recheck after the update", UNKNOWN, VerdictKind.RECHECK, "r-0001", "released", destination="bd.detectie.mkb"),
    Step("first reviewer discards", NO_LEVEL, VerdictKind.DISCARD, "r-0002", "pending"),
    Step("second reviewer discards", NO_LEVEL, VerdictKind.DISCARD, "r-0003", "discarded"),
    Step("release after the discard", NO_LEVEL, VerdictKind.RELEASE, "r-0001", "rejected", ("ITEM_NOT_OPEN",)),
)


@dataclass
class StepRow:
    step: Step
    prefix: str = ""  # the deployment's topic prefix: destinations carry it
    audit: dict[str, Any] | None = None
    signal: dict[str, Any] | None = None  # the released signal, as its queue holds it
    closed: list[str] = field(default_factory=list)  # closing quarantine records' status

    @property
    def outcome(self) -> str | None:
        return self.audit["outcome"] if self.audit else None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r["code"] for r in self.audit["reasons"]) if self.audit else ()

    @property
    def destination(self) -> str | None:
        return ((self.audit or {}).get("destination") or {}).get("topic")

    @property
    def as_expected(self) -> bool:
        step = self.step
        if step.kind is None:
            return True
        released = step.outcome == "released"
        return (
            self.outcome == step.outcome
            and self.codes == step.codes
            and self.destination == (self.prefix + step.destination if step.destination else None)
            and (not released or (self.signal is not None and self.signal["data"]["beoordeling"] is not None))
            and self.closed == ([step.outcome] if step.outcome in ("released", "discarded") else [])
        )


async def tell(
    bootstrap: str, rules: Rules, held: dict[str, tuple[Position, str]], knows_client: Callable[[], Awaitable[bool]]
) -> list[StepRow]:
    """Play the story; ``held`` gives each quarantined sample's item position and event digest."""
    rows = []
    for step in STORY:
        row = StepRow(step, rules.topics.prefix)
        rows.append(row)
        if step.kind is None:
            await _add_client(bootstrap, rules)
            for _ in range(600):  # 30 s at most: the gateway follows the reference topic
                if await knows_client():
                    break
                await asyncio.sleep(0.05)
            else:
                raise BrokerError("the gateway did not take the reference update within 30 s")
            continue
        position, digest = held[step.sample]
        key = s.partner_key(s.reviewer_kid(step.reviewer))
        grounds = None if step.kind is VerdictKind.RECHECK else f"demo: {step.label}"
        verdict = Verdict(position, digest, step.kind, grounds, step.reviewer, datetime.now(UTC))
        signature = sign_detached(dumps(verdict.as_json()), key, s.reviewer_kid(step.reviewer), "EdDSA")
        _, row.audit = await send_and_wait(bootstrap, rules.topics, verdict, signature, 60)
    await _collect_outputs(bootstrap, rules, rows)
    return rows


async def _add_client(bootstrap: str, rules: Rules) -> None:
    producer = new_partner_producer(bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(rules.topics.reference, dumps(NEW_CLIENT), key=s.UNKNOWN_CLIENT.encode())
    finally:
        await producer.stop()


async def _collect_outputs(bootstrap: str, rules: Rules, rows: list[StepRow]) -> None:
    """The released signals and the closing quarantine records the story's verdicts wrote."""
    by_chain_seq = {(r.audit["chain"], r.audit["seq"]): r for r in rows if r.audit}

    def row_of(audit: Any) -> StepRow | None:
        return by_chain_seq.get((audit.get("chain"), audit.get("seq"))) if isinstance(audit, dict) else None

    for destination in {row.destination for row in rows if row.destination}:
        for record in await read_all(bootstrap, destination):
            signal = _json(record)
            beoordeling = (signal.get("data") or {}).get("beoordeling")
            if (row := row_of((beoordeling or {}).get("audit"))) is not None:
                row.signal = signal
    for record in await read_all(bootstrap, rules.topics.quarantine):
        closing = _json(record)
        if "status" in closing and (row := row_of(closing.get("audit"))) is not None:
            row.closed.append(str(closing["status"]))


def _json(record: InboundRecord) -> dict[str, Any]:
    body = strict_loads(record.value or b"{}")
    return body if isinstance(body, dict) else {}
