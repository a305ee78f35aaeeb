"""The records every measurement uses: signed NLA reports of about 1 KB, in a realistic mix."""

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from gateway.demo import samples as s

# The bench runs on the committed sample agreements: sign with the test keys that match them.
os.environ.setdefault(s.KEYS_ENV, str(Path(__file__).parents[1] / "tests" / "fixtures" / "demo-keys"))

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


def kinds(count: int) -> list[str]:
    """The kind of each report in the mix, in order.

    ``routed``, ``quarantined``, ``rejected``, ``badsig`` (bad signature) or ``retry`` (a duplicate).
    """
    result: list[str] = []
    for i in range(count):
        slot = i % 100
        if slot < 3 and result:
            result.append("retry")  # the report before it, sent again: a duplicate
        elif slot < 8:
            result.append("quarantined")
        elif slot < 16:
            result.append("rejected")
        elif slot < 20:
            result.append("badsig")
        else:
            result.append("routed")
    return result


def expected_outcomes(count: int) -> dict[str, int]:
    """What the gateway must decide for ``mixed(count)``."""
    outcome = {"retry": "duplicate", "badsig": "rejected"}
    totals: dict[str, int] = {}
    for kind in kinds(count):
        name = outcome.get(kind, kind)
        totals[name] = totals.get(name, 0) + 1
    return totals


def mixed(count: int) -> list[tuple[bytes, bytes]]:
    now = datetime.now(UTC)
    records: list[tuple[bytes, bytes]] = []
    for kind in kinds(count):
        records.append(records[-1] if kind == "retry" else report(kind, now))
    return records
