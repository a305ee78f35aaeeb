"""What a verdict writes: on release the signal, on release or discard the closing quarantine record.

No receipt: the partner's report was ``accepted`` when it arrived and stays
so (spec/review.md, R4). Grounds stay on ``gkt.review``; they are copied nowhere.
"""

from typing import Literal

from contracts.jsonio import dumps, utc_iso
from gateway.messages import QuarantineClosed
from gateway.outputs import DeferredSigner, OutMessage, signal_data, signal_event, signed
from gateway.reasons import Outcome
from gateway.review.decide import VerdictDecision
from gateway.selection.clients import Selected
from gateway.signing import Signer
from gateway.topics import Topics
from gateway.types import ChainId


def beoordeling(decision: VerdictDecision, chain: ChainId, seq: int) -> dict[str, object]:
    """Signal 1.1 ``beoordeling``: when it was released, why it had been held, where the release is audited."""
    assert decision.item is not None, "a released verdict is about an open item"
    return {
        "vrijgegevenOp": utc_iso(decision.record.received_at),
        "redenen": list(dict.fromkeys(decision.item.reasons)),
        "audit": {"chain": chain, "seq": seq},
    }


def verdict_messages(
    decision: VerdictDecision,
    chain: ChainId,
    seq: int,
    topics: Topics,
    signer: Signer | DeferredSigner,
    gateway_source: str,
    selected: Selected | None = None,
) -> list[OutMessage]:
    """Everything one verdict writes besides its audit record; ``chain``/``seq`` is that audit record's place,
    ``selected`` the client memory's word on a released report."""
    item, out = decision.item, []
    if decision.outcome is Outcome.RELEASED:
        report = decision.report
        assert item is not None, "a release is about an open item"
        assert report is not None, "a release decided the report again"
        assert report.destination, "and it routed"
        # The signal as the report would have had it routed straight away: same signal_id, its own decision's
        # audit record, and where and why it was released.
        earlier = selected.earlier if selected else None
        data = signal_data(report, ChainId(item.chain), item.seq, beoordeling(decision, chain, seq), earlier)
        value = dumps(signal_event(report, data, gateway_source))
        out.append(signed(report.destination, report.signal_id, value, signer))
    if decision.outcome in (Outcome.RELEASED, Outcome.DISCARDED):
        assert item is not None
        status: Literal["released", "discarded"] = "released" if decision.outcome is Outcome.RELEASED else "discarded"
        closing: QuarantineClosed = {
            "item": str(item.position),
            "status": status,
            "at": utc_iso(decision.record.received_at),
            "audit": {"chain": chain, "seq": seq},
        }
        out.append(signed(topics.quarantine, item.event_id or str(item.position), dumps(closing), signer))
    return out
