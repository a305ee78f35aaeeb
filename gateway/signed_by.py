"""Is this record a small JSON object, signed by the holder it names? Reviewers' verdicts (spec/review.md)
and detection teams' feedback (spec/selection.md) are checked alike: a key of that holder, in the version of
their file in force at the record's time of receipt, valid then, and a detached JWS over the exact value.

The answer is a failure detail (for ``VERDICT_INVALID``, ``FEEDBACK_INVALID``) that names our own terms only,
and the kid to record: the header's kid only when the file lists it, else masked (G7).
"""

from dataclasses import dataclass
from typing import Any

from contracts.jsonio import strict_loads
from contracts.keyholders import HolderBook, HolderVersion
from contracts.masking import masked
from gateway.inbound import InboundRecord
from gateway.reasons import Reason
from gateway.signing import verify_detached
from gateway.stages.authenticate import presented_signature
from gateway.types import KeyId


@dataclass(frozen=True, slots=True)
class SignedBy:
    """The version in force, the kid to record, and why the record is not the holder's (None: it is)."""

    version: HolderVersion | None
    kid: KeyId | None
    failure: str | None

    @property
    def verified(self) -> bool:
        return self.failure is None


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


def signed_by(record: InboundRecord, book: HolderBook[Any], holder: str, *, allow_test: bool) -> SignedBy:
    """Check that ``record`` (dated, its value read) is signed by ``holder`` under ``book``."""
    version = book.in_force(record.received_at)
    if version is None:
        return SignedBy(None, None, f"no {book.LIST} version is in force at the time of receipt")
    if version.test and not allow_test:
        return SignedBy(
            version,
            None,
            f"{version.LIST} {version.version} hold test keys: they count only with allow_test_oins "
            "(GKT_ALLOW_TEST_OINS, --allow-test-oins), in demo and tests",
        )
    presented = presented_signature(record)
    if isinstance(presented, Reason):
        return SignedBy(version, None, presented.detail)
    header = presented.header
    key = version.key(holder, header.kid)
    if key is None:
        # A kid the file lists (someone else's) is ours to record; any other is the sender's word (G7).
        kid = header.kid if version.lists_kid(header.kid) else KeyId(masked(header.kid, 64))
        return SignedBy(version, kid, f"{version.LIST} {version.version} list no key with this kid for {version.NOUN}")
    if header.alg != key.alg:
        failure: str | None = f"signature: alg must be {key.alg} for this kid"
    elif not key.valid_at(record.received_at):
        failure = f"the {version.NOUN}'s key is not valid at the time of receipt"
    elif not verify_detached(presented.token, record.value or b"", key.key, key.alg, header):
        failure = "the signature does not verify"
    else:
        failure = None
    return SignedBy(version, header.kid, failure)
