"""Building, hashing and signing audit records; one chain per inbound partition.

``hash`` = SHA-256 over the RFC 8785 canonical JSON of the record without
``hash`` and ``sig``; ``prev`` links to the previous record of the chain; ``sig``
is set at checkpoints (the last record of each chain in every write).
The record holds digests and codes, never report content (G7).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from contracts.jsonio import SAFE_INTEGER, canonical, canonical_unchecked, dumps, sha256_digest, utc_iso
from contracts.masking import masked_or_none
from gateway import __version__
from gateway.decision import Decision
from gateway.feedback.decide import FeedbackDecision
from gateway.inbound import InboundRecord
from gateway.messages import AuditBody, AuditDestination, AuditEvent, AuditInbound, AuditRecord, AuditVersions
from gateway.reasons import Outcome
from gateway.review.decide import VerdictDecision
from gateway.selection.clients import Selected
from gateway.signing import Signer
from gateway.types import ChainId

GENESIS = "sha256:" + "0" * 64


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last record of a chain: where the next one continues."""

    chain: ChainId
    seq: int  # seq of the last record; -1 for an empty chain
    hash: str
    offset: int  # inbound offset of the last decided record; -1 for none

    @classmethod
    def empty(cls, chain: ChainId) -> "ChainHead":
        return cls(chain, -1, GENESIS, -1)

    def next(self, record: Mapping[str, Any]) -> "ChainHead":
        return ChainHead(self.chain, int(record["seq"]), str(record["hash"]), int(record["inbound"]["offset"]))


def record_hash(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k not in ("hash", "sig")}
    return sha256_digest(canonical(body))


class _Placed(TypedDict):
    chain: str
    seq: int
    prev: str
    decided_at: str
    inbound: AuditInbound


def _placed(record: InboundRecord, head: ChainHead, decided_at: datetime) -> _Placed:
    """Where a record sits: next in ``head``'s chain, deciding ``record`` (an inbound report or a verdict)."""
    return {
        "chain": head.chain,
        "seq": head.seq + 1,
        "prev": head.hash,
        "decided_at": utc_iso(decided_at),
        "inbound": {
            **record.position.as_dict(),
            "timestamp": record.received_text,
            "timestamp_type": record.timestamp_type,
        },
    }


def _versions(decision: Decision | None) -> AuditVersions:
    """The versions a report's decision depended on (all null when there was none)."""
    return {
        "gateway": __version__,
        "contract": decision.contract.key if decision and decision.contract else None,
        "agreement": decision.agreement.ref if decision and decision.agreement else None,
        "policy": decision.policy.ref if decision and decision.policy else None,
        "reference": decision.reference if decision else None,
    }


def _signal_destination(decision: Decision) -> AuditDestination:
    """Where a routed or released report's signal went, its id, and its ``vervolg`` (spec/selection.md, figures)."""
    destination: AuditDestination = {"topic": decision.destination, "signal_id": decision.signal_id}
    if decision.enforcement is not None:
        destination["vervolg"] = decision.enforcement.vervolg
    return destination


def _signed_record_event(record: InboundRecord, kid: str | None) -> AuditEvent:
    """``event`` of a verdict or feedback step: no CloudEvent, only the record's digest and the signer's kid."""
    return {"id": None, "source": None, "type": None, "dataschema": None, "digest": record.digest, "kid": kid}


def _selection(selected: Selected | None) -> dict[str, object]:
    """``client`` and ``eerdere`` of a routed or released report (spec/selection.md); nothing for any other."""
    if selected is None:
        return {}
    return {"client": selected.client, "eerdere": selected.earlier.as_audit()}


def audit_record(
    decision: Decision, head: ChainHead, decided_at: datetime, selected: Selected | None = None
) -> AuditBody:
    """The unsealed record (no ``hash``/``sig``) for ``decision``, next in ``head``'s chain.

    ``selected``: what the client memory said of a routed report (none for any other outcome, and none where
    no memory is kept: ``gkt check``, replay).
    """
    read, record = decision.read, decision.record
    attrs = read.attributes or {}

    def attr(name: str) -> str | None:
        value = attrs.get(name)
        return value if isinstance(value, str) and read.event is not None else None

    destination: AuditDestination | None = None
    if decision.outcome is Outcome.ROUTED:
        destination = _signal_destination(decision)
    elif decision.outcome is Outcome.QUARANTINED:
        destination = {"topic": decision.destination, "signal_id": None}
    return {
        **_placed(record, head, decided_at),  # reports leave the NotRequired "review" out
        "event": {
            # Until the signature verified, id and source are the sender's word (``BSN-123456782.Jansen`` is a
            # valid id): kept masked, as an unknown kid is (G7). The partner's receipt keeps them as sent.
            "id": read.id if decision.authenticated else masked_or_none(read.id),
            "source": read.source if decision.authenticated else masked_or_none(read.source),
            "type": attr("type"),
            "dataschema": attr("dataschema"),
            "digest": record.digest,
            "kid": decision.kid,
        },
        "outcome": decision.outcome.value,
        "reasons": [r.as_audit() for r in decision.reasons],
        "original": decision.original.as_dict() if decision.original else None,
        "destination": destination,
        "versions": _versions(decision),
        **_selection(selected if decision.outcome is Outcome.ROUTED else None),  # type: ignore[typeddict-item]
    }


def verdict_audit_record(
    decision: VerdictDecision, head: ChainHead, decided_at: datetime, selected: Selected | None = None
) -> AuditBody:
    """The unsealed record of a verdict (spec/review.md): ``inbound`` is the verdict record, ``event`` its
    digest and the reviewer's kid, ``review`` the item, verdict and reviewer (never the grounds)."""
    record, report = decision.record, decision.report
    verdict = decision.verdict
    destination: AuditDestination | None = None
    if decision.outcome is Outcome.RELEASED and report is not None:
        destination = _signal_destination(report)
    return {
        **_placed(record, head, decided_at),
        "event": _signed_record_event(record, decision.kid),
        "outcome": decision.outcome.value,
        "reasons": [r.as_audit() for r in decision.reasons],
        "original": None,
        "destination": destination,
        "versions": {**_versions(report), "reviewers": decision.signers.ref if decision.signers else None},
        "review": {
            "item": decision.named_item,
            "verdict": verdict.kind.value if verdict else None,
            "reviewer": decision.reviewer,
        },
        **_selection(selected if decision.outcome is Outcome.RELEASED else None),  # type: ignore[typeddict-item]
    }


def feedback_audit_record(decision: FeedbackDecision, head: ChainHead, decided_at: datetime) -> AuditBody:
    """The unsealed record of a team's step (spec/selection.md): ``inbound`` is the step's record, ``event`` its
    digest and the team's kid, ``feedback`` what it said of which signal, as far as that is ours to record."""
    readable, signal = decision.readable, decision.signal
    return {
        **_placed(decision.record, head, decided_at),  # type: ignore[typeddict-item]  # no review, client, eerdere
        "event": _signed_record_event(decision.record, decision.kid),
        "outcome": decision.outcome.value,
        "reasons": [r.as_audit() for r in decision.reasons],
        "original": None,
        "destination": None,
        "versions": {**_versions(None), "teams": decision.signers.ref if decision.signers else None},
        "feedback": {
            "signal_id": decision.signal_id,
            "status": readable.status,
            "op": readable.on.isoformat() if readable.on is not None else None,
            "team": decision.team,
            "partner": signal.partner if signal is not None else None,
        },
    }


@dataclass(slots=True)
class Sealed:
    """A sealed record, and the canonical bytes of its body (what ``hash`` is taken over)."""

    record: AuditRecord
    body: bytes

    def encoded(self) -> bytes:
        """The record as written: RFC 8785 canonical JSON, members sorted.

        Written this way the record's bytes are its hashed body with the ``hash`` and
        ``sig`` members added, so ``gkt audit verify`` checks the hash straight from the
        bytes (gateway/audit/verify.py) instead of re-encoding every record. The body's
        bytes are reused here, not encoded a second time: ``hash`` sorts between
        ``event`` and ``inbound``, ``sig`` between ``seq`` and ``versions``.
        """
        body, record = self.body, self.record
        at_hash, at_sig = body.index(b',"inbound":'), body.index(b',"versions":')
        return b"".join(
            (
                body[:at_hash],
                b',"hash":',
                dumps(record["hash"]),
                body[at_hash:at_sig],
                b',"sig":',
                dumps(record["sig"]),
                body[at_sig:],
            )
        )


def canonical_body(record: AuditBody) -> bytes:
    """RFC 8785 bytes of an audit body, without walking it: its member names are ours (ASCII) and its only
    numbers are integers (seq, partitions, offsets), so sorted compact JSON is JCS unless an integer is out
    of I-JSON's range, which ``canonical`` then refuses as it always did."""
    original = record["original"]
    numbers = (record["seq"], record["inbound"]["offset"], original["offset"] if original else 0)
    if all(-SAFE_INTEGER <= n <= SAFE_INTEGER for n in numbers):
        return canonical_unchecked(record)
    return canonical(record)


def seal(record: AuditBody) -> Sealed:
    """Add ``hash``; ``sig`` stays null until ``sign_checkpoint`` (spec/audit.md: signatures at checkpoints)."""
    body = canonical_body(record)
    return Sealed({**record, "hash": sha256_digest(body), "sig": None}, body)


def sign_checkpoint(sealed: AuditRecord, signer: Signer) -> None:
    """Sign a sealed record: the gateway's detached JWS over its hash bytes.

    The gateway signs the last record of each chain in every write; through the
    ``prev`` links that signature vouches for every earlier record of the chain.
    """
    sealed["sig"] = signer.sign(str(sealed["hash"]).encode("ascii"))
