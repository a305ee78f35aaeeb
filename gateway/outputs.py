"""What one decision writes: signal, receipt, quarantine or dead-letter record.

Every message is signed by the gateway (header ``gkt-signature``) over its
exact value bytes. Receipts never reveal destination or quarantine (art. 67
AWR); dead letters and audit records never carry personal data (G7).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from contracts.agreement import ReportTypeAgreement
from contracts.base import Substantiation, TextPath
from contracts.jsonio import dumps, utc_iso
from contracts.masking import mask
from contracts.signal import SIGNAL_DATASCHEMA, SIGNAL_EVENT_TYPE
from gateway.decision import Decision
from gateway.inbound import SIGNATURE_HEADER
from gateway.messages import QuarantineRecord, Receipt
from gateway.reasons import Outcome, Stage
from gateway.selection.clients import Earlier, Selected
from gateway.signing import Signer
from gateway.topics import Topics
from gateway.types import ChainId

# Bounds on what the gateway writes, whatever arrived (docs/architecture.md, "Bounds"): every record
# under Apache Kafka's default max.message.bytes, and what goes to partners, auditors and operators
# far under it. Key, value and headers count together.
MAX_RECORD_BYTES = 1_048_576
MAX_SMALL_RECORD_BYTES = 65_536  # receipts, audit records, dead letters
DEAD_LETTER_VALUE_BYTES = 49_152  # the masked bytes kept of an unreadable record
QUARANTINE_EVENT_BYTES = 786_432  # above this the event is not copied; reviewers read it at its position


class PendingSignature(Protocol):
    def result(self) -> str: ...


class DeferredSigner(Protocol):
    """Signs elsewhere (gateway.crypto_ahead): the signature is there when the message is completed."""

    def submit(self, payload: bytes) -> PendingSignature: ...


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One Kafka record to write.

    ``signature``: the gateway's signature while the crypto helper still makes it;
    ``complete()`` puts it first among the headers, as ``signed`` does at once.
    Only complete messages are written (gateway.kafka.writer refuses others).
    """

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    signature: PendingSignature | None = None

    def complete(self) -> "OutMessage":
        if self.signature is None:
            return self
        header = (SIGNATURE_HEADER, self.signature.result().encode("ascii"))
        return OutMessage(self.topic, self.key, self.value, (header, *self.headers))


def signed(
    topic: str,
    key: str | None,
    value: bytes,
    signer: Signer | DeferredSigner,
    extra: tuple[tuple[str, bytes], ...] = (),
) -> OutMessage:
    """Signed by the gateway over its exact value bytes: header ``gkt-signature``, first."""
    encoded = key.encode("utf-8") if key is not None else None
    if isinstance(signer, Signer):
        return OutMessage(topic, encoded, value, ((SIGNATURE_HEADER, signer.sign(value).encode("ascii")), *extra))
    return OutMessage(topic, encoded, value, extra, signer.submit(value))


def receipt(decision: Decision, decided_at: datetime) -> Receipt:
    """The partner's proof of delivery; routed and quarantined are both ``accepted``."""
    read = decision.read
    accepted = decision.outcome in (Outcome.ROUTED, Outcome.QUARANTINED)
    return {
        "id": read.id,
        "source": read.source,
        "inbound": decision.position.as_dict(),
        "event_digest": decision.record.digest,
        "outcome": decision.outcome.receipt_outcome,
        "reasons": [r.as_dict() for r in decision.reasons] if decision.outcome is Outcome.REJECTED else [],
        "signal_id": decision.signal_id if accepted else None,
        # A retry with other bytes under the same id is still a duplicate; the partner sees so by comparing digests.
        "original": {**decision.original.as_dict(), "event_digest": decision.original_digest}
        if decision.original
        else None,
        "decided_at": utc_iso(decided_at),
    }


def receipt_key(decision: Decision) -> str:
    return decision.read.id or str(decision.position)


def signal_data(
    decision: Decision,
    chain: ChainId,
    seq: int,
    beoordeling: dict[str, object] | None = None,
    earlier: Earlier | None = None,
) -> dict[str, object]:
    """The signal ``data`` (spec/contracts.md, signal 1.2 of spec/selection.md), whatever the partner and contract
    version.

    ``chain``/``seq``: the audit record of the report's decision; ``beoordeling``: set only for a
    report released from quarantine (spec/review.md), null for one routed straight away; ``earlier``:
    what the client memory knows (null where none is kept: ``gkt check``).
    """
    event, subject, enforcement = decision.event, decision.subject, decision.enforcement
    assert event is not None, "a routed decision has an event"
    assert subject is not None, "a routed decision has a subject"
    assert enforcement is not None, "a routed decision has its enforcement"
    assert decision.contract is not None, "a routed decision has a contract"
    assert decision.agreement is not None, "a routed decision has an agreement"
    assert decision.report is not None, "a routed decision has its report"
    terms = decision.agreement.report_type(event.type)
    bsns_agreed = terms is not None and terms.field_agreed(("opdrachtnemers", 0, "bsn"))
    return {
        "signaalId": decision.signal_id,
        "melding": {
            "partner": decision.partner,
            "bron": event.source,
            "id": event.id,
            "type": event.type,
            "contractversie": decision.contract.version,
            "referentie": subject.referentie,
            "ontvangenOp": utc_iso(decision.record.received_at),
        },
        "opdrachtgever": subject.opdrachtgever,
        "keten": [{"kvkNummer": p.kvk_nummer, "naam": p.naam, "rol": p.rol} for p in subject.keten],
        "opdrachtnemers": {
            "aantal": subject.aantal_opdrachtnemers,
            "bsns": list(subject.bsns) if bsns_agreed else [],
            "kvkNummers": list(subject.kvk_nummers),
        },
        "periode": (
            {"van": subject.periode_van.isoformat(), "tot": subject.periode_tot.isoformat()}
            if subject.periode_van is not None and subject.periode_tot is not None
            else None
        ),
        "indicatoren": list(subject.indicatoren),
        "oordeel": subject.oordeel,
        "kwaadwillendheid": subject.kwaadwillendheid,
        "handhaving": enforcement.as_signal(),
        "audit": {"chain": chain, "seq": seq},
        "beoordeling": beoordeling,
        "onderbouwing": onderbouwing(decision.report.substantiation(), terms),
        "eerdereSignalen": earlier.as_signal() if earlier is not None else None,
    }


def onderbouwing(grounds: Substantiation, terms: ReportTypeAgreement | None) -> dict[str, object]:
    """The signal's ``onderbouwing`` (spec/selection.md): a free text only where the agreement forwards it."""

    def forwarded(text: str | None, path: TextPath) -> str | None:
        return text if text is not None and terms is not None and terms.forwarded(path) else None

    return {
        "inspectieDatum": grounds.inspectie_datum.isoformat() if grounds.inspectie_datum else None,
        "functies": list(grounds.functies),
        "indicatoren": [
            {"code": i.code, "bron": i.bron, "toelichting": forwarded(i.toelichting, i.toelichting_path)}
            for i in grounds.indicatoren
        ],
        "toelichting": forwarded(grounds.toelichting, grounds.toelichting_path),
    }


def signal_event(decision: Decision, data: dict[str, object], gateway_source: str) -> dict[str, object]:
    """The signal as a CloudEvent in structured mode."""
    return {
        "specversion": "1.0",
        "id": decision.signal_id,
        "source": gateway_source,
        "type": SIGNAL_EVENT_TYPE,
        "dataschema": SIGNAL_DATASCHEMA,
        "time": utc_iso(decision.record.received_at),
        "datacontenttype": "application/json",
        "data": data,
    }


def quarantine_record(decision: Decision, decided_at: datetime) -> QuarantineRecord:
    """For human review: the whole event, why it is held, and the rules it was decided under.

    This topic holds report content by design (reviewers need it); its ACLs
    allow only the review team to read it. ``event`` is null when the event
    could not be read (a record the gateway failed to decide).
    """
    return {
        "id": decision.read.id,
        "source": decision.read.source,
        "partner": decision.partner,
        "inbound": decision.position.as_dict(),
        "event_digest": decision.record.digest,
        "signal_id": decision.signal_id,
        "reasons": [r.as_dict() for r in decision.reasons],
        "received_at": decision.record.received_text,
        "decided_at": utc_iso(decided_at),
        "agreement": decision.agreement.ref if decision.agreement else None,
        "contract": decision.contract.key if decision.contract else None,
        "event": decision.read.attributes,
    }


def quarantine_value(decision: Decision, decided_at: datetime) -> bytes:
    """The encoded quarantine record; without its event when that would not fit a Kafka record.

    Only a report the gateway failed to decide can get here with an event that
    grows on re-encoding (``1e9`` becomes ``1000000000.0``); a validated
    report is at most about the size it arrived with.
    """
    record = quarantine_record(decision, decided_at)
    value = dumps(record)
    if len(value) > QUARANTINE_EVENT_BYTES:
        value = dumps({**record, "event": None})
    return value


def dead_letter(decision: Decision, topics: Topics, decided_at: datetime) -> OutMessage:
    """An unreadable record for operators: masked bytes, with its position and reasons as headers."""
    assert decision.stage is Stage.READ
    record, value = decision.record, decision.record.value or b""
    headers = (
        ("gkt-reason", ",".join(r.code.value for r in decision.reasons).encode()),
        ("gkt-reason-detail", "; ".join(r.detail for r in decision.reasons).encode()),
        ("gkt-inbound", str(record.position).encode()),
        ("gkt-event-digest", record.digest.encode()),
        ("gkt-value-length", str(len(value)).encode()),  # the whole length; the value holds at most the start
        ("gkt-received-at", (record.received_text or f"undated ({record.timestamp_ms} ms)").encode()),
        ("gkt-decided-at", utc_iso(decided_at).encode()),
    )
    return OutMessage(topics.deadletter, None, mask(value[:DEAD_LETTER_VALUE_BYTES]), headers)


def messages_for(
    decision: Decision,
    chain: ChainId,
    seq: int,
    decided_at: datetime,
    topics: Topics,
    signer: Signer | DeferredSigner,
    gateway_source: str,
    selected: Selected | None = None,
) -> list[OutMessage]:
    """Everything one decision writes besides its audit record; ``selected``: the client memory's word on a
    routed report."""
    out: list[OutMessage] = []
    if decision.outcome is Outcome.ROUTED and decision.destination:
        data = signal_data(decision, chain, seq, earlier=selected.earlier if selected else None)
        out.append(
            signed(
                decision.destination,
                decision.signal_id,
                dumps(signal_event(decision, data, gateway_source)),
                signer,
            )
        )
    elif decision.outcome is Outcome.QUARANTINED:
        out.append(
            signed(
                topics.quarantine,
                decision.read.id,
                quarantine_value(decision, decided_at),
                signer,
            )
        )
    elif decision.stage is Stage.READ:
        out.append(dead_letter(decision, topics, decided_at))
    if decision.partner is not None:
        out.append(
            signed(
                topics.feedback(decision.partner),
                receipt_key(decision),
                dumps(receipt(decision, decided_at)),
                signer,
            )
        )
    return out
