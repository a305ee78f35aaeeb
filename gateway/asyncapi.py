"""The AsyncAPI 3.0 document of every topic and message, generated from the models.

FastStream builds the document from a broker declaration: each topic is a
subscriber (what the gateway reads) or a publisher (what it writes), with the
pydantic model of its messages. Inbound events list every contract version
the partner's agreements name, so the document says exactly what a partner may send.
"""

from collections.abc import Awaitable, Callable
from typing import Any, Literal, Union

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, ConfigDict, Field, create_model

from gateway import __version__
from gateway.messages import (
    AuditRecord,
    FeedbackRecord,
    QuarantineClosed,
    QuarantineRecord,
    Receipt,
    ReviewVerdict,
    SignalEvent,
)
from gateway.pipeline import Rules
from gateway.types import PartnerId
from routing.reference import ReferenceRecord


class InboundEventBase(BaseModel):
    """The CloudEvents attributes every partner's event carries (spec/wire.md)."""

    model_config = ConfigDict(extra="forbid")

    specversion: Literal["1.0"]
    id: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,128}$")
    source: str = Field(pattern=r"^urn:nld:oin:[0-9]{20}(:[A-Za-z0-9._-]{1,64})?$")
    dataschema: str = Field(pattern=r"^urn:gkt:contract:[a-z0-9.]+:[0-9]+\.[0-9]+$")
    time: str = Field(description="RFC 3339 with an offset")
    datacontenttype: Literal["application/json"]
    traceparent: str | None = None
    tracestate: str | None = None


def _handler(model: Any) -> Callable[[Any], Awaitable[None]]:
    """A do-nothing handler whose parameter type tells FastStream the message schema."""

    async def handle(body: Any) -> None:  # pragma: no cover - never called
        return None

    handle.__annotations__ = {"body": model, "return": None}
    return handle


def inbound_model(rules: Rules, partner: PartnerId) -> type[BaseModel]:
    """The CloudEvent a partner publishes, with ``data`` any contract version its agreements name."""
    agreed = sorted(
        {
            (terms.type, version)
            for agreement in rules.agreements
            if agreement.partner == partner
            for terms in agreement.report_types
            for version in terms.versions
        }
    )
    models = [c.model for t, v in agreed if (c := rules.contracts.get(t, v)) is not None]
    data_type: Any = Union[tuple(models)] if len(models) > 1 else models[0]  # noqa: UP007 - built at run time
    type_names: Any = Literal[tuple(sorted({t for t, _ in agreed}))]
    return create_model(
        f"{partner.capitalize()}InboundEvent",
        __base__=InboundEventBase,
        __doc__=f"A report of partner {partner}: a CloudEvent in structured JSON mode, signed (header gkt-signature).",
        type=(type_names, ...),
        data=(data_type, ...),
    )


def asyncapi_document(rules: Rules, bootstrap: str = "kafka:9092") -> dict[str, Any]:
    topics = rules.topics
    broker = KafkaBroker(bootstrap, description="Apache Kafka; names carry the deployment prefix (topic_prefix)")
    for partner in rules.agreements.partners():
        broker.subscriber(
            topics.inbound(partner),
            title=topics.inbound(partner),
            description=f"Reports of {partner}, written only by its principal; key: the client's KVK-nummer.",
        )(_handler(inbound_model(rules, partner)))
        broker.publisher(
            topics.feedback(partner),
            title=topics.feedback(partner),
            schema=Receipt,
            description="One signed receipt per inbound record; key: event id "
            "(topic/partition/offset when unreadable).",
        )
    destinations = rules.policies.destinations()
    for name in destinations:
        broker.publisher(
            topics.destination(name),
            title=topics.destination(name),
            schema=SignalEvent,
            description="Signals of strong suspicion, signed; key: signal_id. Deduplicate on id.",
        )
    broker.publisher(
        topics.quarantine,
        title=topics.quarantine,
        schema=QuarantineRecord | QuarantineClosed,
        description="Reports held for human review, readable by reviewers only; and, once two reviewers released "
        "or discarded one, its closing record. Key: event id.",
    )
    broker.subscriber(
        topics.review,
        title=topics.review,
        description="Reviewers' verdicts on held reports, each signed by its reviewer (header gkt-signature); "
        "key: the item id. Decided like inbound records, in audit chains gkt.review/<partition>.",
    )(_handler(ReviewVerdict))
    broker.subscriber(
        topics.terugkoppeling,
        title=topics.terugkoppeling,
        description="Detection teams' feedback: what became of a signal, one record per step, signed by the team "
        "(header gkt-signature); key: the signal id. Decided like verdicts, in audit chains "
        "bd.terugkoppeling/<partition>; nothing of it reaches a partner (spec/selection.md).",
    )(_handler(FeedbackRecord))
    broker.publisher(
        topics.deadletter,
        title=topics.deadletter,
        schema=bytes,
        description="Unreadable records, masked (letters x, digits 9); position and reasons in headers.",
    )
    broker.publisher(
        topics.audit,
        title=topics.audit,
        schema=AuditRecord,
        description="Every decision, hash-chained per inbound partition; key: chain id. Never deleted.",
    )
    broker.publisher(
        topics.checkpoints,
        title=topics.checkpoints,
        schema=str,
        description="Checkpoints of the audit chains: C2SP signed notes (text: origin <origin>/audit/<chain>, "
        "records, head hash, time; signed with the gateway's Ed25519 key under its origin); key: chain id. At most "
        "every checkpoint_seconds per chain, and at stop (spec/witness.md). Never deleted.",
    )
    broker.subscriber(
        topics.witness,
        title=topics.witness,
        description="Witnesses' cosigned checkpoints: a checkpoint of gkt.checkpoints with a C2SP tlog-cosignature "
        "v1 line added by a partner's or the internal audit department's witness; key: chain id (spec/witness.md).",
    )(_handler(str))
    broker.subscriber(
        topics.reference,
        title=topics.reference,
        description="Client reference data (compacted); key: KVK-nummer; null deletes.",
    )(_handler(ReferenceRecord))
    spec = AsyncAPI(
        broker,
        title="GKT signal gateway",
        version=__version__,
        description="Partner reports of false self-employment in; signals, receipts and audit records out.",
        schema_version="3.0.0",
    )
    return dict(spec.to_specification().to_jsonable())
