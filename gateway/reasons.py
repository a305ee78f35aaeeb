"""Reason codes, stages and outcomes of spec/wire.md, as data.

Every stage reports problems as ``Reason`` values with a code from here; no
code is spelled as a string literal anywhere else.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from gateway.messages import AuditReason, ReceiptReason


class Stage(StrEnum):
    """Decision stages, in the order they run."""

    READ = "read"
    AUTHENTICATE = "authenticate"
    DEDUPLICATE = "deduplicate"
    SCREEN = "screen"
    CONTRACT = "contract"
    AGREEMENT = "agreement"
    ROUTE = "route"
    VERDICT = "verdict"  # a reviewer's verdict on a quarantined report (spec/review.md)
    FEEDBACK = "feedback"  # a detection team's feedback on a signal (spec/selection.md)


class Outcome(StrEnum):
    """What the gateway decided for one inbound record, or for one verdict on a quarantined one."""

    ROUTED = "routed"
    QUARANTINED = "quarantined"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    # Verdicts on quarantined reports (spec/review.md); the partner never sees these.
    PENDING = "pending"
    RELEASED = "released"
    DISCARDED = "discarded"
    # Feedback from detection teams (spec/selection.md): taken into the log, never told to a partner.
    RECORDED = "recorded"

    @property
    def receipt_outcome(self) -> Literal["accepted", "rejected", "duplicate"]:
        """What the partner is told: routed and quarantined are both ``accepted`` (art. 67 AWR).

        Verdicts have no receipt (spec/review.md, R4): asking for one is a bug.
        """
        if self in (Outcome.ROUTED, Outcome.QUARANTINED):
            return "accepted"
        if self is Outcome.REJECTED:
            return "rejected"
        if self is Outcome.DUPLICATE:
            return "duplicate"
        raise ValueError(f"a {self.value} verdict has no receipt")


class ReasonCode(StrEnum):
    """Every reason code of spec/wire.md, spec/review.md and spec/selection.md."""

    EVENT_TOO_LARGE = "EVENT_TOO_LARGE"
    EVENT_UNREADABLE = "EVENT_UNREADABLE"
    EVENT_INVALID = "EVENT_INVALID"
    TIMESTAMP_UNTRUSTED = "TIMESTAMP_UNTRUSTED"
    SIGNATURE_MISSING = "SIGNATURE_MISSING"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    KEY_UNKNOWN = "KEY_UNKNOWN"
    KEY_NOT_VALID = "KEY_NOT_VALID"
    SENDER_MISMATCH = "SENDER_MISMATCH"
    EVENT_STALE = "EVENT_STALE"
    DUPLICATE = "DUPLICATE"
    PROHIBITED_ATTRIBUTE = "PROHIBITED_ATTRIBUTE"
    CONTRACT_UNKNOWN = "CONTRACT_UNKNOWN"
    CONTRACT_VIOLATION = "CONTRACT_VIOLATION"
    IDENTIFIER_INVALID = "IDENTIFIER_INVALID"
    AGREEMENT_NOT_IN_FORCE = "AGREEMENT_NOT_IN_FORCE"
    REPORT_TYPE_NOT_AGREED = "REPORT_TYPE_NOT_AGREED"
    FIELD_NOT_AGREED = "FIELD_NOT_AGREED"
    EVIDENCE_INSUFFICIENT = "EVIDENCE_INSUFFICIENT"
    REVIEW_REQUIRED = "REVIEW_REQUIRED"
    REFERENCE_UNKNOWN = "REFERENCE_UNKNOWN"
    VERDICT_INVALID = "VERDICT_INVALID"
    ITEM_NOT_OPEN = "ITEM_NOT_OPEN"
    VERDICT_REPEATED = "VERDICT_REPEATED"
    FEEDBACK_INVALID = "FEEDBACK_INVALID"

    @property
    def stage(self) -> Stage:
        return _STAGE_OF[self]


_STAGE_OF: dict[ReasonCode, Stage] = {
    **dict.fromkeys(
        [
            ReasonCode.EVENT_TOO_LARGE,
            ReasonCode.EVENT_UNREADABLE,
            ReasonCode.EVENT_INVALID,
            ReasonCode.TIMESTAMP_UNTRUSTED,
        ],
        Stage.READ,
    ),
    **dict.fromkeys(
        [
            ReasonCode.SIGNATURE_MISSING,
            ReasonCode.SIGNATURE_INVALID,
            ReasonCode.KEY_UNKNOWN,
            ReasonCode.KEY_NOT_VALID,
            ReasonCode.SENDER_MISMATCH,
            ReasonCode.EVENT_STALE,
        ],
        Stage.AUTHENTICATE,
    ),
    ReasonCode.DUPLICATE: Stage.DEDUPLICATE,
    ReasonCode.PROHIBITED_ATTRIBUTE: Stage.SCREEN,
    **dict.fromkeys(
        [
            ReasonCode.CONTRACT_UNKNOWN,
            ReasonCode.CONTRACT_VIOLATION,
            ReasonCode.IDENTIFIER_INVALID,
        ],
        Stage.CONTRACT,
    ),
    **dict.fromkeys(
        [
            ReasonCode.AGREEMENT_NOT_IN_FORCE,
            ReasonCode.REPORT_TYPE_NOT_AGREED,
            ReasonCode.FIELD_NOT_AGREED,
            ReasonCode.EVIDENCE_INSUFFICIENT,
        ],
        Stage.AGREEMENT,
    ),
    **dict.fromkeys([ReasonCode.REVIEW_REQUIRED, ReasonCode.REFERENCE_UNKNOWN], Stage.ROUTE),
    **dict.fromkeys(
        [ReasonCode.VERDICT_INVALID, ReasonCode.ITEM_NOT_OPEN, ReasonCode.VERDICT_REPEATED],
        Stage.VERDICT,
    ),
    ReasonCode.FEEDBACK_INVALID: Stage.FEEDBACK,
}


MAX_REASONS_PER_STAGE = 20
MAX_DETAIL = 300


@dataclass(frozen=True, slots=True)
class Reason:
    """One problem: a code, a JSON pointer into the event, and human text.

    ``detail`` never contains the offending value (it may be personal data),
    and is cut at ``MAX_DETAIL`` characters; ``path`` comes from
    ``contracts.masking.pointer``, which masks and bounds it.
    """

    code: ReasonCode
    path: str | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if len(self.detail) > MAX_DETAIL:
            object.__setattr__(self, "detail", self.detail[: MAX_DETAIL - 1] + "…")

    def as_dict(self) -> ReceiptReason:
        return {"code": self.code.value, "path": self.path, "detail": self.detail}

    def as_audit(self) -> AuditReason:
        """Audit records keep codes and paths only: detail text is for the partner."""
        return {"code": self.code.value, "path": self.path}


def at_most(reasons: list[Reason], limit: int = MAX_REASONS_PER_STAGE) -> list[Reason]:
    """The first ``limit`` reasons, and one more that says how many were left out and of which codes.

    A stage lists every problem it found (spec/wire.md), but 40,000 unknown
    attributes must not make a 3 MB receipt: every output stays bounded.
    """
    if len(reasons) <= limit:
        return reasons
    rest = reasons[limit:]
    codes = ", ".join(sorted({reason.code.value for reason in rest}))
    summary = Reason(rest[0].code, None, f"{len(rest)} more problems of this stage are not listed ({codes})")
    return [*reasons[:limit], summary]
