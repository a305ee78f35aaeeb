"""Stage 2, authenticate: who sent this, with which key, and when.

G3: a report is only routed when its signature verifies with a key of the
partner that owns the topic, valid at ``received_at``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.agreement import Agreement, AgreementKey
from contracts.masking import masked
from gateway.inbound import SIGNATURE_HEADER, CloudEvent, InboundRecord
from gateway.reasons import Reason, ReasonCode
from gateway.signing import ProtectedHeader, SignatureFormatError, read_protected_header, verify_detached
from gateway.types import KeyId

MAX_CLOCK_AHEAD = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """One verification the stage asks for: this token over these bytes with this agreed key."""

    token: str
    payload: bytes
    key: AgreementKey
    header: ProtectedHeader


def verify_now(check: SignatureCheck) -> bool:
    return verify_detached(check.token, check.payload, check.key.key, check.key.alg, check.header)


Verify = Callable[[SignatureCheck], bool]
"""How the stage has a signature verified: at once (``verify_now``), or by a check made ahead (gateway.crypto_ahead)."""


@dataclass(frozen=True, slots=True)
class AuthResult:
    reasons: list[Reason]
    kid: KeyId | None = None  # as the agreement lists it; masked when the agreement does not know it (G7)


def authenticate(
    record: InboundRecord,
    event: CloudEvent,
    agreement: Agreement | None,
    partner_of_topic: str | None = None,
    verify: Verify = verify_now,
) -> AuthResult:
    """Check signature, key, sender and freshness; every problem of the stage is listed."""
    if agreement is None:
        # No agreement at all: no key to check, and no owner the sender could mismatch.
        partner = partner_of_topic or "this topic's partner"
        detail = f"there is no working agreement for {partner}, so no key of it"
        return AuthResult([Reason(ReasonCode.KEY_UNKNOWN, None, detail)])
    signature_reasons, kid = _signature(record, agreement, verify)
    reasons = list(signature_reasons)
    if event.oin != agreement.oin:
        reasons.append(
            Reason(
                ReasonCode.SENDER_MISMATCH,
                "/source",
                "source is not the partner that owns this topic",
            )
        )
    reasons += _freshness(event.time, record.received_at, agreement.max_event_age_days)
    return AuthResult(reasons, kid)


@dataclass(frozen=True, slots=True)
class Presented:
    """A ``gkt-signature`` header that is one detached compact JWS with exactly alg and kid."""

    token: str
    header: ProtectedHeader


def presented_signature(record: InboundRecord) -> Presented | Reason:
    """The record's signature, or why there is none to check (``SIGNATURE_MISSING`` / ``SIGNATURE_INVALID``).

    Partners' reports and reviewers' verdicts carry their signature the same way (spec/wire.md).
    """
    values = record.headers_named(SIGNATURE_HEADER)
    if not values:
        return Reason(ReasonCode.SIGNATURE_MISSING, None, f"header {SIGNATURE_HEADER} is missing")
    if len(values) > 1:
        return Reason(ReasonCode.SIGNATURE_INVALID, None, f"header {SIGNATURE_HEADER} occurs more than once")
    value = values[0]
    if value is None:  # Kafka allows a header with a null value
        return Reason(ReasonCode.SIGNATURE_MISSING, None, f"header {SIGNATURE_HEADER} has no value")
    try:
        token = value.decode("ascii")
        return Presented(token, read_protected_header(token))
    except (UnicodeDecodeError, SignatureFormatError) as exc:
        detail = str(exc) if isinstance(exc, SignatureFormatError) else "not ASCII"
        return Reason(ReasonCode.SIGNATURE_INVALID, None, f"signature: {detail}")


@dataclass(frozen=True, slots=True)
class Unchecked:
    """Why a signature gets no verification, and the kid to record (masked when the agreement lacks it)."""

    reason: Reason
    kid: KeyId | None = None


def signature_check(record: InboundRecord, agreement: Agreement) -> SignatureCheck | Unchecked:
    """The verification a record's signature needs under ``agreement``, or why it gets none.

    gateway.crypto calls this ahead of the stage to verify a batch on another core; the
    stage calls it again (its header parse is cached) and takes that verification's answer.
    """
    presented = presented_signature(record)
    if isinstance(presented, Reason):
        return Unchecked(presented)
    header = presented.header
    key = agreement.key(header.kid)
    if key is None:
        # The kid is the sender's word, not one of ours: only its shape is kept (letters x, digits 9).
        # The agreement's own kids are the partner's, and tell it which one to use.
        shape = masked(header.kid, 40)
        listed = ", ".join(key.kid for key in agreement.keys)
        version = f"{agreement.partner} {agreement.version}"
        detail = f"the working agreement ({version}) lists no key with kid {shape}; it lists {listed}"
        return Unchecked(Reason(ReasonCode.KEY_UNKNOWN, None, detail), KeyId(masked(header.kid, 64)))
    if header.alg != key.alg:
        return Unchecked(Reason(ReasonCode.SIGNATURE_INVALID, None, f"alg must be {key.alg} for this kid"), header.kid)
    if not key.valid_at(record.received_at):
        reason = Reason(ReasonCode.KEY_NOT_VALID, None, "the key is not valid at the time of receipt")
        return Unchecked(reason, header.kid)
    return SignatureCheck(presented.token, record.value or b"", key, header)


def _signature(record: InboundRecord, agreement: Agreement, verify: Verify) -> tuple[list[Reason], KeyId | None]:
    check = signature_check(record, agreement)
    if isinstance(check, Unchecked):
        return [check.reason], check.kid
    if not verify(check):
        return [Reason(ReasonCode.SIGNATURE_INVALID, None, "the signature does not verify")], check.header.kid
    return [], check.header.kid


def _freshness(event_time: datetime, received_at: datetime, max_age_days: int) -> list[Reason]:
    if event_time - received_at > MAX_CLOCK_AHEAD:
        return [Reason(ReasonCode.EVENT_STALE, "/time", "time is more than 5 minutes after receipt")]
    if received_at - event_time > timedelta(days=max_age_days):
        return [
            Reason(
                ReasonCode.EVENT_STALE,
                "/time",
                f"time is more than {max_age_days} days before receipt",
            )
        ]
    return []
