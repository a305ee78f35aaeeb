"""The reviewers' side of review (``gkt review``): the queue from the audit log, and verdicts sent and awaited.

Everything comes from Kafka, as the gateway's own state does: open items and
verdicts from ``gkt.audit``, the held event from ``gkt.quarantine``, the
report's exact bytes from its inbound topic. A verdict is published to
``gkt.review`` and its outcome is the gateway's audit record of it.
"""

from datetime import datetime
from typing import Any

from contracts.jsonio import dumps, strict_loads
from gateway.decision import Decision
from gateway.errors import UsageError
from gateway.inbound import InboundRecord, Position
from gateway.kafka.fetch import RecordFetcher
from gateway.kafka.follower import read_once
from gateway.pipeline import Rules, decide_again
from gateway.review.state import Item, ReviewState
from gateway.review.verdict import Verdict, parse_item
from gateway.signed_send import Signed, send_signed
from gateway.topics import Topics


async def load_state(bootstrap: str, topics: Topics, **client: Any) -> ReviewState:
    """The quarantine as the audit log says it is now."""
    state = ReviewState()

    def apply(record: InboundRecord) -> None:
        if record.value is not None:
            state.apply(strict_loads(record.value))

    await read_once(bootstrap, topics.audit, apply, **client)
    return state


def resolve(state: ReviewState, text: str) -> Item:
    """``ITEM`` as the reviewer typed it: an item id, or an event id when exactly one item has it."""
    position = parse_item(text)
    if position is not None:
        item = state.known(position)
        if item is None:
            raise UsageError(f"{text}: no report was quarantined at this position (see gkt review list)")
        return item
    matches = [item for item in state.open_items() if item.event_id == text] or [
        item for item in state.all_items() if item.event_id == text
    ]
    if not matches:
        raise UsageError(f"{text}: no quarantined report has this item id or event id (see gkt review list)")
    if len(matches) > 1:
        raise UsageError(f"{text}: {len(matches)} items have this event id; give the item id (<topic>/<p>/<offset>)")
    return matches[0]


async def held_event(bootstrap: str, topics: Topics, item: Item, **client: Any) -> dict[str, Any] | None:
    """The quarantine record the gateway wrote for ``item`` (the event in full, for people)."""
    found: dict[str, Any] = {}

    def keep(record: InboundRecord) -> None:
        if record.value is None:
            return
        body = strict_loads(record.value)
        if isinstance(body.get("inbound"), dict) and Position.of(body["inbound"]) == item.position:
            found.update(body)

    await read_once(bootstrap, topics.quarantine, keep, **client)
    return found or None


async def held_report(bootstrap: str, item: Item, **client: Any) -> InboundRecord | None:
    """The report's exact record on its inbound topic, or None when retention removed it."""
    fetcher = RecordFetcher(bootstrap, **client)
    await fetcher.start()
    try:
        return (await fetcher.fetch({item.position})).get(item.position)
    finally:
        await fetcher.stop()


def release_now(report: InboundRecord, rules: Rules) -> Decision:
    """What a release would do now: the report decided again, its review flag lifted, today's reference data."""
    return decide_again(report, rules, review_lifted=True)


async def send_and_wait(
    bootstrap: str, topics: Topics, verdict: Verdict, signature: str, limit_seconds: float, **client: Any
) -> tuple[Position, dict[str, Any]]:
    """Publish the signed verdict; return where it went and the gateway's audit record of it."""
    signed = Signed(
        topics.review,
        dumps(verdict.as_json()),
        str(verdict.item).encode(),
        signature,
        "the verdict",
        "see gkt review show",
        "a verdict that did arrive is refused the second time, VERDICT_REPEATED",
    )
    return await send_signed(bootstrap, topics, signed, limit_seconds, **client)


def age_days(item: Item, now: datetime) -> float | None:
    received = item.received
    return (now - received).total_seconds() / 86_400 if received else None
