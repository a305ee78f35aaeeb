"""The records every measurement uses: signed NLA reports of about 1 KB, in a realistic mix."""

import uuid
from datetime import UTC, datetime

from gateway.demo import samples as s

MIX = "80% routed, 5% quarantined, 8% rejected (evidence), 4% bad signatures, 3% retries"


def report(kind: str, now: datetime) -> tuple[bytes, bytes]:
    """``(value, gkt-signature)`` of one report of the given kind."""
    client = s.UNKNOWN_CLIENT if kind == "quarantined" else s.KNOWN_CLIENT_MKB
    changes = {"oordeel": "vermoeden"} if kind == "rejected" else {}
    # About 1 KB, like a real report; the padding sits in a field the sample agreement agrees.
    indicatoren = [
        {"code": code, "toelichting": "waargenomen tijdens inspectie " * 3} for code in ("GEZAG", "INBEDDING", "LOON")
    ]
    data = s.nla_report(client, indicatoren=indicatoren, **changes)
    value = s.encode(s.event(data, time=now, event_id=str(uuid.uuid4())))
    signature = (
        b"eyJhbGciOiJFZERTQSIsImtpZCI6Im5sYS0yMDI1LTAxIn0..AAAA" if kind == "badsig" else s.sign(value, "nla-2025-01")
    )
    return value, signature


def mixed(count: int) -> list[tuple[bytes, bytes]]:
    now = datetime.now(UTC)
    records: list[tuple[bytes, bytes]] = []
    for i in range(count):
        slot = i % 100
        if slot < 3 and records:
            records.append(records[-1])  # a retry: a duplicate
        elif slot < 8:
            records.append(report("quarantined", now))
        elif slot < 16:
            records.append(report("rejected", now))
        elif slot < 20:
            records.append(report("badsig", now))
        else:
            records.append(report("routed", now))
    return records
