"""The one typed definition of every record the gateway writes (besides reports and the signal's data).

Each is a ``TypedDict``: the builders (gateway/outputs.py, gateway/audit/record.py,
gateway/review/) are typed to return it, so mypy checks every field they
write; the AsyncAPI document (gateway/asyncapi.py) publishes its JSON Schema;
and ``validate`` checks written bytes against it (the tests do, for every kind
of record). At run time they are plain dicts: no cost on the hot path. The
signal's ``data`` has its own versioned model in contracts/signal.py.
"""

from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,  # pydantic needs typing_extensions' on Python 3.11
)

from pydantic import ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict

from contracts.signal import Signal

Sha256 = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
_Closed = ConfigDict(extra="forbid")


@with_config(_Closed)
class InboundPosition(TypedDict):
    topic: str
    partition: int
    offset: int


@with_config(_Closed)
class ReceiptReason(TypedDict):
    code: Annotated[str, Field(description="a reason code of spec/wire.md")]
    path: Annotated[str | None, Field(description="JSON pointer into the event")]
    detail: Annotated[str, Field(description="human text; never the offending value")]


@with_config(_Closed)
class OriginalReceipt(TypedDict):
    topic: str
    partition: int
    offset: int
    event_digest: Annotated[
        str | None,
        Field(
            description="digest of the bytes first decided under this id: compare with event_digest to see "
            "whether the retry sent other bytes (null when the gateway does not know it)"
        ),
    ]


@with_config(_Closed)
class Receipt(TypedDict):
    """The partner's signed proof of delivery, on ``gkt.feedback.<partner>``, keyed by event id."""

    id: str | None
    source: str | None
    inbound: InboundPosition
    event_digest: Sha256
    outcome: Literal["accepted", "rejected", "duplicate"]
    reasons: list[ReceiptReason]
    signal_id: str | None
    original: OriginalReceipt | None
    decided_at: str


@with_config(_Closed)
class QuarantineRecord(TypedDict):
    """A report held for human review, on ``gkt.quarantine`` (reviewers only), keyed by event id."""

    id: str | None
    source: str | None
    partner: str | None
    inbound: InboundPosition
    event_digest: Sha256
    signal_id: str | None
    reasons: list[ReceiptReason]
    received_at: str | None
    decided_at: str
    agreement: str | None
    contract: str | None
    event: Annotated[dict[str, Any] | None, Field(description="the whole inbound event, as the partner sent it")]


@with_config(_Closed)
class AuditPlace(TypedDict):
    chain: str
    seq: int


@with_config(_Closed)
class QuarantineClosed(TypedDict):
    """The closing record of a released or discarded item, on ``gkt.quarantine`` keyed by event id (review.md)."""

    item: Annotated[str, Field(description="<topic>/<partition>/<offset> of the held report")]
    status: Literal["released", "discarded"]
    at: Annotated[str, Field(description="the Kafka time of the verdict that closed it")]
    audit: AuditPlace


@with_config(_Closed)
class ReviewVerdict(TypedDict):
    """A reviewer's verdict on ``gkt.review``, keyed by item; signed by the reviewer (header gkt-signature)."""

    item: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,249}/[0-9]{1,9}/[0-9]{1,19}$")]
    event_digest: Sha256
    verdict: Literal["release", "discard", "recheck"]
    grounds: NotRequired[
        Annotated[str, Field(min_length=1, max_length=1000, description="required for release and discard")]
    ]
    reviewer: Annotated[str, Field(description="the reviewer's id in the reviewers file")]
    at: Annotated[str, Field(description="RFC 3339 with an offset")]


FeedbackStatus = Literal[
    "geselecteerd",
    "niet_geselecteerd",
    "onderzoek_gestart",
    "correctie_opgelegd",
    "naheffing_opgelegd",
    "boete_opgelegd",
    "geen_vervolg",
]


@with_config(_Closed)
class FeedbackRecord(TypedDict):
    """A detection team's step on a signal, on ``bd.terugkoppeling`` keyed by signaalId; signed by the team's key
    (header gkt-signature) as a verdict is by a reviewer's (spec/selection.md)."""

    signaalId: Annotated[str, Field(description="the signal's id (signal_id), as the signal carries it")]
    status: FeedbackStatus
    op: Annotated[str, Field(description="the date of the step, YYYY-MM-DD; not before the signal's ontvangenOp")]
    team: Annotated[str, Field(description="the team's id in the teams file")]


@with_config(_Closed)
class AuditInbound(TypedDict):
    topic: str
    partition: int
    offset: int
    timestamp: Annotated[str | None, Field(description="the Kafka time; null when it cannot be dated")]
    timestamp_type: NotRequired[
        Annotated[
            Literal["LogAppendTime", "CreateTime"],
            Field(
                description="whose clock the timestamp is: the broker's (LogAppendTime) or the producer's"
                " (CreateTime, taken only with trust_producer_time); absent in records written before it was kept"
            ),
        ]
    ]


@with_config(_Closed)
class AuditEvent(TypedDict):
    id: str | None
    source: str | None
    type: str | None
    dataschema: str | None
    digest: Sha256
    kid: str | None


@with_config(_Closed)
class AuditReason(TypedDict):
    code: str
    path: str | None


@with_config(_Closed)
class AuditDestination(TypedDict):
    topic: str | None
    signal_id: str | None
    vervolg: NotRequired[
        Annotated[str, Field(description="routed and released: the signal's handhaving.vervolg, for gkt report")]
    ]


@with_config(_Closed)
class AuditVersions(TypedDict):
    gateway: str
    contract: str | None
    agreement: str | None
    policy: str | None
    reference: Annotated[str | None, Field(description="digest of the client's reference record that routing used")]
    reviewers: NotRequired[
        Annotated[str | None, Field(description="verdicts only: the reviewers file (version and digest)")]
    ]
    teams: NotRequired[Annotated[str | None, Field(description="feedback only: the teams file (version and digest)")]]


@with_config(_Closed)
class AuditReview(TypedDict):
    """Verdicts only: what the verdict was about; never the grounds."""

    item: Annotated[str | None, Field(description="the item id; masked when the log knows no such item")]
    verdict: Literal["release", "discard", "recheck"] | None
    reviewer: Annotated[str | None, Field(description="the reviewer's id; null when the reviewers file lists none")]


@with_config(_Closed)
class AuditEarlier(TypedDict):
    """Routed and released reports only (spec/selection.md): the earlier signals the signal counted."""

    aantal: Annotated[int, Field(ge=0, description="signals about the same client in the five years before")]
    recent: Annotated[
        list[str],
        Field(max_length=10, description="their ten most recent signal ids, newest first; replay checks each"),
    ]


@with_config(_Closed)
class AuditFeedback(TypedDict):
    """Feedback records only (spec/selection.md): what a team said of which signal. Each member is null where
    the record did not give it readably; ``signal_id`` is masked when the gateway knows no such signal, ``team``
    null unless the team's signature verified (until then it is the sender's word)."""

    signal_id: str | None
    status: FeedbackStatus | None
    op: Annotated[str | None, Field(description="the date of the step, YYYY-MM-DD")]
    team: str | None
    partner: Annotated[str | None, Field(description="the partner whose report the signal came from")]


Outcome = Literal["routed", "quarantined", "rejected", "duplicate", "pending", "released", "discarded", "recorded"]


@with_config(_Closed)
class AuditBody(TypedDict):
    """An audit record before it is sealed: everything ``hash`` covers."""

    chain: Annotated[
        str,
        Field(
            description="<inbound topic>/<partition>, gkt.review/<partition> for verdicts, "
            "bd.terugkoppeling/<partition> for feedback"
        ),
    ]
    seq: int
    prev: Sha256
    decided_at: str
    inbound: AuditInbound
    event: AuditEvent
    outcome: Outcome
    reasons: list[AuditReason]
    original: InboundPosition | None
    destination: AuditDestination | None
    versions: AuditVersions
    review: NotRequired[AuditReview]
    feedback: NotRequired[AuditFeedback]
    client: NotRequired[
        Annotated[
            str,
            Field(
                pattern=r"^hmac-sha256:[0-9a-f]{64}$",
                description="routed and released reports: HMAC-SHA-256 of opdrachtgever.kvkNummer under the "
                "gateway's client key (spec/selection.md); never the number itself",
            ),
        ]
    ]
    eerdere: NotRequired[AuditEarlier]


@with_config(_Closed)
class AuditRecord(AuditBody):
    """One decision, on ``gkt.audit`` keyed by chain id; hash-chained per chain, signed at checkpoints."""

    hash: Sha256
    sig: Annotated[
        str | None,
        Field(
            description="detached JWS by the gateway over the hash; null except at checkpoints (the last record of "
            "each chain in every write), whose signature covers every earlier record through the prev links"
        ),
    ]


@with_config(_Closed)
class SignalEvent(TypedDict):
    """The CloudEvent envelope of a signal; ``data`` is contracts/signal.py."""

    specversion: Literal["1.0"]
    id: str
    source: str
    type: Literal["nl.belastingdienst.gkt.signaal.schijnzelfstandigheid"]
    dataschema: Literal["urn:gkt:contract:nl.belastingdienst.gkt.signaal:1.2"]
    time: str
    datacontenttype: Literal["application/json"]
    data: Signal


def validate(kind: Any, value: bytes) -> Any:
    """Check ``value`` (JSON bytes as written) against one of the definitions above; raises ValidationError."""
    return TypeAdapter(kind).validate_json(value, strict=False)
