"""The demo's sample reports: good ones and one of each kind of bad one, with what must happen.

Used by ``gkt demo`` and by the end-to-end tests, which assert the same
expectations through the real broker. Together the samples give every
outcome and every reason code of spec/wire.md but ``TIMESTAMP_UNTRUSTED``: the
embedded broker keeps producers' timestamps, so the demo trusts them (wire.md,
broker time).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.demo import samples as s
from gateway.reasons import Outcome, ReasonCode
from gateway.signing import sign_detached
from gateway.stages.read import MAX_EVENT_BYTES
from gateway.types import PartnerId

ROUTED, QUARANTINED = Outcome.ROUTED, Outcome.QUARANTINED
REJECTED, DUPLICATE = Outcome.REJECTED, Outcome.DUPLICATE


@dataclass(frozen=True)
class Sample:
    label: str
    partner: PartnerId
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    outcome: Outcome
    codes: tuple[ReasonCode, ...] = ()
    destination: str | None = None
    timestamp: datetime | None = None  # Kafka timestamp (received_at); None: when published
    key: bytes | None = field(default=None)


def _signed(
    label: str,
    partner: str,
    event: dict[str, Any],
    kid: str,
    outcome: Outcome,
    *codes: ReasonCode,
    destination: str | None = None,
    timestamp: datetime | None = None,
) -> Sample:
    value = s.encode(event)
    return Sample(
        label,
        PartnerId(partner),
        value,
        (("gkt-signature", s.sign(value, kid)),),
        outcome,
        codes,
        destination,
        timestamp,
        str(event["data"].get("opdrachtgever", {}).get("kvkNummer", "")).encode(),
    )


SCENARIO_NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
"""A fixed moment for tests: NLA agreement 2026.1 (all report versions) is in force."""


def samples(now: datetime | None = None) -> list[Sample]:
    """Every demo sample, timed around ``now`` (the moment of publishing; at least 2026)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    nla, kvk = "nla", "kvk"
    first = s.event(s.nla_report(), time=now, event_id="nla-demo-0001")
    pilot = datetime(2025, 2, 10, 10, 0, tzinfo=UTC)
    before = datetime(2024, 12, 15, 10, 0, tzinfo=UTC)

    def nla_event(**changes: Any) -> dict[str, Any]:
        return s.event(s.nla_report(**changes), time=now)

    tampered = s.encode(nla_event())
    unknown_attribute = {**nla_event(), "geheim": "x"}
    other_type = s.event(s.kvk_report(), time=now, report_type=s.KVK_TYPE)  # KVK's type, sent by NLA
    wrong_version = s.event(s.nla_report(), time=now, version="9.0")
    missing = s.nla_report()
    del missing["zaakReferentie"]
    prohibited = s.nla_report()
    prohibited["opdrachtnemers"][0]["nationaliteit"] = "x"
    bad_bsn = s.nla_report()
    bad_bsn["opdrachtnemers"][0]["bsn"] = "111222334"
    btw = s.nla_report()
    btw["opdrachtgever"]["btwId"] = "NL004495445B01"
    return [
        _signed("NLA report 1.0, MKB client", nla, first, "nla-2025-01", ROUTED, destination="bd.detectie.mkb"),
        _signed(
            "NLA report 1.1 with intermediary, GO client",
            nla,
            s.event(s.nla_report_11(s.KNOWN_CLIENT_GO), time=now, version="1.1"),
            "nla-2025-01",
            ROUTED,
            destination="bd.detectie.go",
        ),
        _signed(
            "NLA report 2.0 with chain, client in HT",
            nla,
            s.event(s.nla_report_20(s.KNOWN_CLIENT_HT), time=now, version="2.0"),
            "nla-2025-01",
            ROUTED,
            destination="bd.ht.kwaliteitsgesprek",
        ),
        _signed(
            "NLA report, client in HT at level volledigheid",
            nla,
            nla_event(client=s.KNOWN_CLIENT_HT_REGISTERED),
            "nla-2025-01",
            ROUTED,
            destination="bd.ht.registratie",
        ),
        _signed(
            "NLA report, client in HT, level unknown",
            nla,
            nla_event(client=s.KNOWN_CLIENT_HT_NO_LEVEL),
            "nla-2025-01",
            QUARANTINED,
            ReasonCode.REFERENCE_UNKNOWN,
            destination="gkt.quarantine",
        ),
        _signed(
            "KVK registration signal",
            kvk,
            s.event(s.kvk_report(), time=now, source=s.KVK_SOURCE, report_type=s.KVK_TYPE),
            "kvk-2025-01",
            ROUTED,
            destination="bd.detectie.mkb",
        ),
        _signed(
            "NLA report, client unknown",
            nla,
            s.event(s.nla_report(s.UNKNOWN_CLIENT), time=now),
            "nla-2025-01",
            QUARANTINED,
            ReasonCode.REFERENCE_UNKNOWN,
            destination="gkt.quarantine",
        ),
        _signed(
            "KVK signal in the pilot weeks",
            kvk,
            s.event(
                s.kvk_report(
                    inschrijving={
                        "kvkNummer": "65432109",
                        "datum": "2025-02-03",
                        "rechtsvorm": "vof",
                    }
                ),
                time=pilot,
                source=s.KVK_SOURCE,
                report_type=s.KVK_TYPE,
            ),
            "kvk-2025-01",
            QUARANTINED,
            ReasonCode.REVIEW_REQUIRED,
            destination="gkt.quarantine",
            timestamp=pilot,
        ),
        Sample(
            "oversized record",
            PartnerId(nla),
            b"{" + b" " * MAX_EVENT_BYTES + b"}",
            (),
            REJECTED,
            (ReasonCode.EVENT_TOO_LARGE,),
        ),
        Sample(
            "not JSON",
            PartnerId(nla),
            b"BSN 123456782, name and all \xff",
            (),
            REJECTED,
            (ReasonCode.EVENT_UNREADABLE,),
        ),
        _signed(
            "unknown CloudEvents attribute",
            nla,
            unknown_attribute,
            "nla-2025-01",
            REJECTED,
            ReasonCode.EVENT_INVALID,
        ),
        Sample("unsigned report", PartnerId(nla), s.encode(nla_event()), (), REJECTED, (ReasonCode.SIGNATURE_MISSING,)),
        Sample(
            "tampered report",
            PartnerId(nla),
            tampered.replace(b"NLA-2025", b"NLA-2024"),
            (("gkt-signature", s.sign(tampered, "nla-2025-01")),),
            REJECTED,
            (ReasonCode.SIGNATURE_INVALID,),
        ),
        Sample(
            "unknown key id",
            PartnerId(nla),
            tampered,
            (("gkt-signature", _with_kid(tampered, "nla-2099-01")),),
            REJECTED,
            (ReasonCode.KEY_UNKNOWN,),
        ),
        _signed("retired key", nla, nla_event(), "nla-2024-01", REJECTED, ReasonCode.KEY_NOT_VALID),
        _signed(
            "sender speaks for KVK",
            nla,
            {**nla_event(), "source": s.KVK_SOURCE},
            "nla-2025-01",
            REJECTED,
            ReasonCode.SENDER_MISMATCH,
        ),
        _signed(
            "stale report",
            nla,
            s.event(s.nla_report(), time=now - timedelta(days=40)),
            "nla-2025-01",
            REJECTED,
            ReasonCode.EVENT_STALE,
        ),
        _signed("retry of the first report", nla, first, "nla-2025-01", DUPLICATE, ReasonCode.DUPLICATE),
        _signed(
            "prohibited attribute",
            nla,
            s.event(prohibited, time=now),
            "nla-2025-01",
            REJECTED,
            ReasonCode.PROHIBITED_ATTRIBUTE,
        ),
        _signed("unknown contract version", nla, wrong_version, "nla-2025-01", REJECTED, ReasonCode.CONTRACT_UNKNOWN),
        _signed(
            "missing required field",
            nla,
            s.event(missing, time=now),
            "nla-2025-01",
            REJECTED,
            ReasonCode.CONTRACT_VIOLATION,
        ),
        _signed("invalid BSN", nla, s.event(bad_bsn, time=now), "nla-2025-01", REJECTED, ReasonCode.IDENTIFIER_INVALID),
        _signed(
            "before the agreement",
            nla,
            s.event(
                s.nla_report(inspectieDatum="2024-12-01", periode={"van": "2024-06-01", "tot": "2024-12-01"}),
                time=before,
            ),
            "nla-2024-01",
            REJECTED,
            ReasonCode.AGREEMENT_NOT_IN_FORCE,
            timestamp=before,
        ),
        _signed("report type not agreed", nla, other_type, "nla-2025-01", REJECTED, ReasonCode.REPORT_TYPE_NOT_AGREED),
        _signed("field not agreed", nla, s.event(btw, time=now), "nla-2025-01", REJECTED, ReasonCode.FIELD_NOT_AGREED),
        _signed(
            "only a suspicion",
            nla,
            nla_event(oordeel="vermoeden"),
            "nla-2025-01",
            REJECTED,
            ReasonCode.EVIDENCE_INSUFFICIENT,
        ),
    ]


def _with_kid(value: bytes, kid: str) -> bytes:
    """A signature by a real key, but naming a kid the agreement does not list."""
    return sign_detached(value, s.partner_key("nla-2025-01"), kid, "EdDSA").encode("ascii")
