"""The demo's selection story (spec/selection.md): a second report about a client arrives with an earlier signal.

After the review story released the NLA report about a client the reference
data did not know, the KVK sends a registration signal about the same client.
Its signal must say that one signal about that client came before: the NLA
report's, which was released from quarantine. The audit record names the
client by keyed hash only.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contracts.jsonio import dumps, strict_loads
from gateway.demo import samples as s
from gateway.demo.scenario import ROUTED, Sample
from gateway.inbound import Position
from gateway.kafka.follower import read_all
from gateway.types import PartnerId

LABEL = "KVK registration signal about the client released above"


def second_report(now: datetime | None = None) -> Sample:
    """A KVK report about the client whose NLA report the review story released (``s.UNKNOWN_CLIENT``)."""
    event = s.event(
        s.kvk_report(s.UNKNOWN_CLIENT), time=now or datetime.now(UTC), source=s.KVK_SOURCE, report_type=s.KVK_TYPE
    )
    value = s.encode(event)
    headers = (("gkt-signature", s.sign(value, "kvk-2025-01")),)
    return Sample(LABEL, PartnerId("kvk"), value, headers, ROUTED, destination="bd.detectie.mkb")


@dataclass
class SelectionRow:
    """The second report's audit record and signal, and the signal it must name as earlier."""

    position: Position
    earlier_signal: str | None  # the released NLA report's signal id
    audit: dict[str, Any] | None = None
    signal: dict[str, Any] | None = None

    @property
    def earlier(self) -> dict[str, Any]:
        data = (self.signal or {}).get("data") or {}
        found = data.get("eerdereSignalen")
        return found if isinstance(found, dict) else {}

    @property
    def as_expected(self) -> bool:
        audit, recent = self.audit or {}, self.earlier.get("recent") or [{}]
        return (
            self.earlier_signal is not None
            and audit.get("outcome") == "routed"
            and self.earlier.get("aantal") == 1
            and recent[0].get("signaalId") == self.earlier_signal
            and recent[0].get("partner") == "nla"
            and audit.get("eerdere") == {"aantal": 1, "recent": [self.earlier_signal]}
            and str(audit.get("client", "")).startswith("hmac-sha256:")
            and s.UNKNOWN_CLIENT.encode() not in dumps(audit)
        )

    def line(self) -> str:
        """The demo's closing line about it."""
        if not self.as_expected:
            return f"the second report about a client did not arrive with the one earlier signal: {self.earlier}"
        first = self.earlier["recent"][0]
        return (
            "the second report about a client (KVK, after the NLA report released above) arrived with 1 earlier "
            f"signal: {first['partner']}, received {first['ontvangenOp']}; the audit log names the client by "
            "keyed hash only"
        )


async def find_signal(bootstrap: str, row: SelectionRow) -> None:
    """The second report's signal, from the queue its audit record names (the caller waited for its decision)."""
    destination = (row.audit or {}).get("destination") or {}
    signal_id, topic = destination.get("signal_id"), destination.get("topic")
    if not signal_id or not topic:
        return
    for record in await read_all(bootstrap, topic):
        signal = strict_loads(record.value or b"{}")
        if isinstance(signal, dict) and signal.get("id") == signal_id:
            row.signal = signal
