"""The client memory as the processor uses it: for each signal it writes, the signals before it, then this one.

A report routed, or released from quarantine, is looked up under its client
(``opdrachtgever.kvkNummer``, by keyed hash) at its own time of receipt, and
then remembered, so the next report about the same client counts it. A report
decided again (a crash's rewrite, a release after a recheck) is received at the
same moment as before, so it never counts itself.
"""

from dataclasses import dataclass, field

from contracts.jsonio import to_millis
from gateway.decision import Decision
from gateway.selection.clients import ClientMemory, EarlierSignal, Selected
from gateway.selection.key import ClientKey


@dataclass
class ClientHistory:
    key: ClientKey
    memory: ClientMemory = field(default_factory=ClientMemory)

    def signal(self, decision: Decision) -> Selected | None:
        """``decision``'s client and earlier signals, for a report that becomes a signal now; None when the
        report names no client (no contract lets that pass; then the signal says null rather than guess)."""
        subject, signal_id, partner = decision.subject, decision.signal_id, decision.partner
        kvk_nummer = subject.opdrachtgever.get("kvkNummer") if subject is not None else None
        if not kvk_nummer or signal_id is None or partner is None:
            return None
        client = self.key.digest(kvk_nummer)
        received_ms = to_millis(decision.record.received_at)
        earlier = self.memory.earlier(client, received_ms)
        self.memory.remember(client, EarlierSignal(received_ms, signal_id, partner))
        return Selected(client, earlier)
