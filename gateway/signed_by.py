"""Is this record a small JSON object, signed by the holder it names? Reviewers' verdicts (spec/review.md)
and detection teams' feedback (spec/selection.md) are checked alike: a key of that holder, in the version of
their file in force at the record's time of receipt, valid then, and a detached JWS over the exact value.

``SignedDecision`` holds what both decisions share and makes these checks; a failure's detail (for
``VERDICT_INVALID``, ``FEEDBACK_INVALID``) names our own terms only, and the kid recorded is the header's kid
only when the file lists it, else masked (G7).
"""

from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar

from contracts.jsonio import strict_loads
from contracts.keyholders import HolderBook, HolderVersion
from contracts.masking import masked
from gateway.inbound import InboundRecord, Position
from gateway.reasons import Outcome, Reason, ReasonCode
from gateway.signing import verify_detached
from gateway.stages.authenticate import presented_signature
from gateway.stages.read import untrusted_time
from gateway.types import KeyId


def small_object(value: bytes | None, limit: int, error: type[ValueError]) -> dict[str, Any]:
    """``value`` as a JSON object of at most ``limit`` bytes; else ``error`` saying which rule it breaks."""
    if value is None:
        raise error("the record has no value")
    if len(value) > limit:
        raise error(f"larger than {limit} bytes")
    try:
        body = strict_loads(value)
    except ValueError:
        raise error("not UTF-8 I-JSON") from None
    if not isinstance(body, dict):
        raise error("not a JSON object")
    return body


V = TypeVar("V", bound=HolderVersion)


@dataclass
class SignedDecision(Generic[V]):
    """What every decision on a record signed by a holder has (a verdict, a feedback step): the record, the
    outcome and its reasons, the holders' version in force, the kid to record, and whether the signature
    verified; the subclasses add what the record is about."""

    record: InboundRecord
    outcome: Outcome = Outcome.REJECTED
    reasons: list[Reason] = field(default_factory=list)
    signers: V | None = None  # the reviewers or teams version in force at the time of receipt
    kid: KeyId | None = None  # as the holders' file lists it; masked when it lists no such key (G7)
    verified: bool = False  # the signature verified: only then is the holder the record names recorded

    @property
    def position(self) -> Position:
        return self.record.position

    def fail(self, code: ReasonCode, detail: str) -> Self:
        self.outcome, self.reasons = Outcome.REJECTED, [Reason(code, None, detail)]
        return self

    def dated(self, code: ReasonCode, *, trust_producer_time: bool) -> bool:
        """Dated by the broker (or by a producer whose time is trusted) within 1970-9999; else failed."""
        untrusted = untrusted_time(self.record, trust_producer_time=trust_producer_time)
        if untrusted is not None:
            self.fail(untrusted.code, untrusted.detail)
            return False
        if not self.record.dated:
            self.fail(code, "the Kafka timestamp is outside 1970-9999: cannot be dated")
            return False
        return True

    def signed_by(self, book: HolderBook[V], holder: str, code: ReasonCode, *, allow_test: bool) -> bool:
        """Signed by ``holder``'s key in the version of ``book`` in force at the time of receipt; else failed."""
        failure = self._signer_failure(book, holder, allow_test=allow_test)
        if failure is not None:
            self.fail(code, failure)
            return False
        self.verified = True
        return True

    def _signer_failure(self, book: HolderBook[V], holder: str, *, allow_test: bool) -> str | None:
        record = self.record
        version = self.signers = book.in_force(record.received_at)
        if version is None:
            return f"no {book.LIST} version is in force at the time of receipt"
        if version.test and not allow_test:
            return (
                f"{version.LIST} {version.version} hold test keys: they count only with allow_test_oins "
                "(GKT_ALLOW_TEST_OINS, --allow-test-oins), in demo and tests"
            )
        presented = presented_signature(record)
        if isinstance(presented, Reason):
            return presented.detail
        header = presented.header
        key = version.key(holder, header.kid)
        if key is None:
            # A kid the file lists (someone else's) is ours to record; any other is the sender's word (G7).
            self.kid = header.kid if version.lists_kid(header.kid) else KeyId(masked(header.kid, 64))
            return f"{version.LIST} {version.version} list no key with this kid for {version.NOUN}"
        self.kid = header.kid
        if header.alg != key.alg:
            return f"signature: alg must be {key.alg} for this kid"
        if not key.valid_at(record.received_at):
            return f"the {version.NOUN}'s key is not valid at the time of receipt"
        if not verify_detached(presented.token, record.value or b"", key.key, key.alg, header):
            return "the signature does not verify"
        return None
