"""The gateway service: consume inbound batches, decide, write, and only then commit.

Per batch: decide every record (gateway.processor); write its signals,
receipts, quarantine and dead-letter records together with the previous
batch's audit records (whose outputs are acknowledged already) and wait for all
acknowledgements; then commit the previous batch's offsets (at most every half
second under load, at once when idle, before a rebalance and at stop:
gateway.kafka.commits). A batch's audit records wait for the next batch, for a
fetch that brings nothing (idle), for a rebalance (before the partitions move)
or for the stop: one write a batch instead of two. A crash at any point leaves the offsets uncommitted; the next
owner of the partition reads the chain head from ``gkt.audit`` and skips what
was already decided (G1), and every output carries a deterministic id (G2).

The consume loop is plain aiokafka rather than a FastStream subscriber:
FastStream's batch parser decodes every header as UTF-8 before the handler
runs, so one hostile header would fail a whole batch, and with manual acks
the next batch's commit would then skip it (docs/architecture.md).
"""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaConnectionError, KafkaError

from contracts.jsonio import strict_loads, to_millis
from contracts.masking import masked_or_none
from gateway.audit.index import AuditIndex
from gateway.audit.record import ChainHead
from gateway.decision import Decision
from gateway.errors import BrokerError, ConfigError
from gateway.feedback.decide import FeedbackDecision
from gateway.inbound import InboundRecord
from gateway.kafka.admin import ensure_topics, start_refusal
from gateway.kafka.blocked import BLOCKED
from gateway.kafka.commits import HeldCommits, Offsets
from gateway.kafka.consumers import new_consumer
from gateway.kafka.fetch import RecordFetcher
from gateway.kafka.follower import TopicFollower
from gateway.kafka.probe import BrokerProbe
from gateway.kafka.records import plain
from gateway.kafka.security import client_options
from gateway.kafka.writer import Writer, new_producer
from gateway.memories import AuditMemories
from gateway.metrics import (
    BATCH_SECONDS,
    CHAIN_SEQ,
    CHECKPOINTS,
    CONSUMER_LAG,
    DECISIONS,
    QUARANTINE_OLDEST,
    QUARANTINE_OPEN,
    READY,
    REASONS,
    REFERENCE_RECORDS,
    REFERENCE_SKIPPED,
    SKIPPED,
    STAGE_SECONDS,
)
from gateway.outputs import OutMessage
from gateway.pipeline import Rules
from gateway.processor import BatchResult, Processor
from gateway.provision.plan import topic_specs
from gateway.reasons import ReasonCode, Stage
from gateway.review.decide import VerdictDecision
from gateway.selection.clients import WINDOW_MS
from gateway.selection.key import ClientKey
from gateway.settings import Settings, crypto_helper_for
from gateway.signing import Signer
from gateway.types import ChainId
from gateway.witness.schedule import CheckpointSchedule
from routing.reference import ReferenceTable

log = structlog.get_logger("gkt.service")
_PRUNE_EVERY_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class _Unaudited:
    """A batch whose outputs are acknowledged, and whose audit records and offsets are still to be written."""

    audits: list[OutMessage]
    commit: Offsets
    heads: dict[ChainId, ChainHead]  # of the chains the audit records continue, after them


async def _stop_each(*stops: Callable[[], Awaitable[None]]) -> None:
    """Stop every client, each whatever became of the others: one that fails to close must not leave the
    rest open (the process is ending for a reason of its own, which a failed close must not hide)."""
    for stop in stops:
        try:
            await stop()
        except Exception as exc:  # any failure to close: logged, and the next client is closed all the same
            log.warning("client_stop_failed", client=getattr(stop, "__qualname__", "?"), error=type(exc).__name__)


class _ChainLoader(ConsumerRebalanceListener):  # type: ignore[misc]
    """Before partitions move: finish the batch in hand and write its audit records; then forget the
    chain heads of partitions that move, so they are read again from the log.

    aiokafka runs a rebalance beside the consume loop; without waiting, the next owner could read a
    chain head before this process's last audit records are on Kafka, decide those records again and
    fork the chain. The audit follower skips this process's own chains (it wrote them), so the head
    is handed to the index first: it is never older than what was written.
    """

    def __init__(
        self,
        heads: dict[ChainId, ChainHead],
        index: AuditIndex,
        busy: asyncio.Lock,
        finish: Callable[[list[ChainId]], Awaitable[None]],
    ) -> None:
        self._heads = heads
        self._index = index
        self._busy = busy
        self._finish = finish

    def _forget(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            head = self._heads.pop(ChainId(f"{tp.topic}/{tp.partition}"), None)
            if head is not None:
                self._index.advance(head)

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        async with self._busy:
            await self._finish([ChainId(f"{tp.topic}/{tp.partition}") for tp in revoked])
            self._forget(revoked)
            BLOCKED.forget(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._forget(assigned)
        log.info(
            "partitions_assigned",
            partitions=sorted(f"{tp.topic}/{tp.partition}" for tp in assigned),
        )


def decided_fields(decision: Decision) -> dict[str, Any]:
    """The one log line of a decision: position, event id, partner, stage, outcome, codes; never content.

    The event id is the sender's word until the signature verified: masked then, as in the audit record (G7).
    """
    return {
        "inbound": str(decision.position),
        "event_id": decision.read.id if decision.authenticated else masked_or_none(decision.read.id),
        "partner": decision.partner or "unknown",
        "stage": decision.stage.value if decision.stage else None,
        "outcome": decision.outcome.value,
        "reasons": [r.code.value for r in decision.reasons],
    }


class GatewayService:
    def __init__(self, settings: Settings, rules: Rules, signer: Signer, bootstrap: str, client_key: ClientKey) -> None:
        self.settings = settings
        self.rules = rules
        if not isinstance(rules.reference, ReferenceTable):
            raise TypeError("the service follows the reference topic into a ReferenceTable")
        self.reference: ReferenceTable = rules.reference
        self.bootstrap = bootstrap
        self.client = client_options(settings)
        # Rebuilt from gkt.audit at start and followed; this process's own decisions are applied as it makes them.
        self.memories = AuditMemories(client_key)
        self.index, self.review, self.clients = self.memories.index, self.memories.review, self.memories.clients
        self.processor = Processor(
            rules,
            signer,
            self.index,
            settings.gateway_source,
            review=self.review,
            crypto_helper=crypto_helper_for(settings, processes=1),
            clients=self.clients,
        )
        self._fetcher = RecordFetcher(bootstrap, **self.client)
        self._quarantine_observed = 0.0
        self.heads: dict[ChainId, ChainHead] = {}
        self.decided = 0
        self._consumer: AIOKafkaConsumer | None = None
        self._followers: list[TopicFollower] = []
        self._reference_loaded = settings.reference is not None
        self._audit: TopicFollower | None = None
        self._probe: BrokerProbe | None = None
        self._pruned_at_ms = 0
        self._busy = asyncio.Lock()  # a batch in hand: a rebalance waits for it (_ChainLoader)
        self._unaudited: _Unaudited | None = None
        self._commits = HeldCommits()
        self._checkpoints = CheckpointSchedule(
            rules.topics.checkpoints, settings.origin, signer, settings.checkpoint_seconds
        )
        self._failed: BrokerError | None = None
        # The labelled children once: a labels() lookup for each of ~7 stages of every record adds up.
        self._stage_seconds = {stage: STAGE_SECONDS.labels(stage.value) for stage in Stage}

    def ready(self) -> bool:
        """Broker reachable, reference data loaded and still followed, partitions assigned."""
        consumer = self._consumer
        return (
            self._reference_loaded
            and consumer is not None
            and bool(consumer.assignment())
            and all(follower.alive for follower in self._followers)
            and (self._probe is None or self._probe.reachable)
        )

    def _check_health(self) -> None:
        """Stop, for the supervisor to restart us, rather than run on stale data or a lost broker."""
        if self._failed is not None:
            raise self._failed
        for follower in self._followers:
            if not follower.alive:
                why = follower.failure()
                raise BrokerError(f"following {follower.topic} stopped ({type(why).__name__}); exiting for a restart")
        if self._probe is not None and self._probe.given_up:
            raise BrokerError(
                f"Kafka unreachable for more than {self.settings.broker_outage_seconds} s; exiting for a restart"
            )

    @property
    def inbound_topics(self) -> list[str]:
        """Every topic the gateway decides: the partners' inbound topics, the reviewers' verdicts and the
        detection teams' feedback."""
        topics = self.rules.topics
        return [*(topics.inbound(p) for p in self.rules.agreements.partners()), topics.review, topics.terugkoppeling]

    async def run(self, stop: asyncio.Event) -> None:
        topics = self.rules.topics
        if self.settings.create_topics:
            destinations = self.rules.policies.destinations()
            specs = topic_specs(topics, self.rules.agreements.partners(), destinations, self.settings.partitions)
            await ensure_topics(self.bootstrap, specs, self.settings.replication_factor, **self.client)
        refusal = await start_refusal(self.bootstrap, self.inbound_topics, topics.review, **self.client)
        if refusal is not None:
            raise ConfigError(refusal)
        idempotent = self.settings.idempotent_producer
        producer = new_producer(self.bootstrap, idempotent=idempotent, **self.client)
        try:
            await producer.start()
        except KafkaError as exc:
            await _stop_each(producer.stop)
            if idempotent and not isinstance(exc, KafkaConnectionError):
                # Reached, and refused InitProducerId: a broker without idempotence (the embedded one).
                raise BrokerError(
                    f"Kafka at {self.bootstrap} refused the idempotent producer ({type(exc).__name__}): "
                    "set idempotent_producer (GKT_IDEMPOTENT_PRODUCER) to false for a broker without "
                    "idempotence, such as the embedded one"
                ) from exc
            raise BrokerError(f"cannot reach Kafka at {self.bootstrap}: {exc}") from exc
        writer = Writer(producer)
        self._probe = BrokerProbe(producer.client, self.settings.broker_outage_seconds)
        try:
            self._probe.start()
            await self._start_followers()
            await self._fetcher.start()
            await self._consume(writer, stop)
        finally:
            READY.set(0)
            consumers = [self._consumer.stop] if self._consumer is not None else []
            followers = [follower.stop for follower in self._followers]
            await _stop_each(self._probe.stop, self._fetcher.stop, *consumers, *followers, producer.stop)
            self.processor.crypto.close()

    async def _start_followers(self) -> None:
        topics = self.rules.topics
        self._audit = TopicFollower(self.bootstrap, topics.audit, self._apply_audit, **self.client)
        self._followers.append(self._audit)
        if self.settings.reference is None:
            self._followers.append(
                TopicFollower(self.bootstrap, topics.reference, self._apply_reference, **self.client)
            )
        for follower in self._followers:
            await follower.start()
        for follower in self._followers:
            await follower.caught_up()
        self._reference_loaded = True
        REFERENCE_RECORDS.set(len(self.reference))
        log.info(
            "caught_up",
            audit_identities=len(self.index),
            client_signals=len(self.clients.memory),
            reference=len(self.reference),
        )
        if not len(self.reference):
            log.warning(
                "reference_data_empty",
                topic=topics.reference,
                effect="every report is quarantined with REFERENCE_UNKNOWN until the topic is loaded",
                hint="gkt reference load FILE.jsonl, or --reference FILE.jsonl",
            )

    def _apply_audit(self, record: InboundRecord) -> None:
        # Our own chains: this process wrote them and holds their heads; reading
        # every record back would cost a JSON parse per decision for nothing.
        if record.key is not None and ChainId(record.key.decode("utf-8", errors="replace")) in self.heads:
            return
        # Anything unreadable (a tombstone, garbage) raises; the follower skips, counts and logs it.
        self.memories.apply(strict_loads(record.value or b""))

    def _apply_reference(self, record: InboundRecord) -> None:
        if not self.reference.apply(record.key, record.value):
            REFERENCE_SKIPPED.inc()
            log.warning(
                "reference_record_invalid",
                position=str(record.position),
            )
        REFERENCE_RECORDS.set(len(self.reference))

    async def _consume(self, writer: Writer, stop: asyncio.Event) -> None:
        consumer = new_consumer(
            bootstrap=self.bootstrap,
            group_id=self.settings.group_id,
            client_id="gkt-gateway",
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=self.settings.heartbeat_interval_ms,
            max_poll_records=self.settings.batch_size,
            # The latency floor under light load: tansu answers a waiting fetch only when this expires.
            fetch_max_wait_ms=self.settings.fetch_max_wait_ms,
            max_partition_fetch_bytes=4_194_304,
            **self.client,
        )
        self._consumer = consumer
        listener = _ChainLoader(
            self.heads, self.index, self._busy, lambda leaving: self._write_audits(consumer, writer, leaving)
        )
        consumer.subscribe(self.inbound_topics, listener=listener)
        try:
            await consumer.start()
        except KafkaError as exc:
            raise BrokerError(f"cannot join consumer group at {self.bootstrap}: {exc}") from exc
        log.info("consuming", topics=self.inbound_topics, group=self.settings.group_id)
        while not stop.is_set():
            self._check_health()
            READY.set(1 if self.ready() else 0)
            self._observe_quarantine()
            try:
                batches = await consumer.getmany(timeout_ms=200, max_records=self.settings.batch_size)
                BLOCKED.fetched(consumer, batches)  # a partition at an undecodable batch waits; the others go on
                async with self._busy:
                    # A rebalance may have run since the fetch: records of partitions no longer ours are
                    # left to their next owner (uncommitted, so it reads them), or two owners fork a chain.
                    owned = consumer.assignment()
                    batches = {tp: records for tp, records in batches.items() if tp in owned}
                    if batches:
                        await self._handle(consumer, writer, batches)
                    else:
                        await self._write_audits(consumer, writer)  # idle: no next batch to carry them
            except KafkaError as exc:
                # Not retriable by aiokafka: stop uncommitted; a restart resumes exactly (G1).
                raise BrokerError(f"Kafka failed: {type(exc).__name__}; exiting for a restart") from exc
        try:
            async with self._busy:
                await self._write_audits(consumer, writer, stopping=True)  # a clean stop leaves nothing to decide
        except KafkaError as exc:
            raise BrokerError(f"Kafka failed at stop: {type(exc).__name__}; the last batch is decided again") from exc

    async def _handle(
        self,
        consumer: AIOKafkaConsumer,
        writer: Writer,
        batches: dict[TopicPartition, list[ConsumerRecord]],
    ) -> None:
        started = time.perf_counter()
        for tp in batches:
            chain = ChainId(f"{tp.topic}/{tp.partition}")
            if chain not in self.heads:
                assert self._audit is not None
                await self._audit.caught_up()  # includes whatever the previous owner wrote
                self.heads[chain] = self.index.head(chain)
        records = [plain(r) for records in batches.values() for r in records]
        reports = {}
        if any(r.position.topic == self.rules.topics.review for r in records):
            assert self._audit is not None
            await self._audit.caught_up()  # reports quarantined by other processes are items too
            reports = await self._fetcher.fetch(self.processor.held_reports(records))
        elif any(r.position.topic == self.rules.topics.terugkoppeling for r in records):
            assert self._audit is not None
            await self._audit.caught_up()  # signals other processes routed are signals of ours too
        result = self.processor.process(records, self.heads, reports)
        decided = time.perf_counter()
        # One write a batch: this batch's outputs with the previous batch's audit records, whose
        # outputs are acknowledged already. An audit record still goes to Kafka only after
        # everything its decision caused; a crash before it is written decides the batch again.
        unaudited, self._unaudited = self._unaudited, None
        await writer.write(result.outputs + (unaudited.audits if unaudited else []))
        self._unaudited = _Unaudited(result.audits, result.commit, result.heads)
        if unaudited is not None:
            await self._checkpoint(writer, unaudited.heads)
        written = time.perf_counter()
        if unaudited is not None:
            await self._commit(consumer, unaudited.commit, now=False)
        self._observe(result, started, decided, written)
        self._prune([r.timestamp_ms for r in records])
        for (topic, partition), position in result.commit.items():
            # From the fetch's high watermark: right on tansu too, unlike ListOffsets.
            highwater = consumer.highwater(TopicPartition(topic, partition))
            if highwater is not None:
                CONSUMER_LAG.labels(f"{topic}/{partition}").set(max(0, highwater - position))

    async def _write_audits(
        self,
        consumer: AIOKafkaConsumer,
        writer: Writer,
        leaving: list[ChainId] | None = None,
        *,
        stopping: bool = False,
    ) -> None:
        """Write the audit records still held and commit every audited offset (idle, before a rebalance, at stop);
        checkpoint the chains ``leaving`` this process, or every chain when ``stopping``."""
        unaudited, self._unaudited = self._unaudited, None  # never written twice, even if this write fails
        try:
            if unaudited is not None:
                await writer.write(unaudited.audits)
            await self._checkpoint(writer, unaudited.heads if unaudited else {}, leaving, stopping=stopping)
        except BrokerError as exc:
            self._failed = exc  # also when a rebalance listener met it: the consume loop exits on it
            raise
        await self._commit(consumer, unaudited.commit if unaudited else {}, now=True)

    async def _checkpoint(
        self,
        writer: Writer,
        written: dict[ChainId, ChainHead],
        leaving: list[ChainId] | None = None,
        *,
        stopping: bool = False,
    ) -> None:
        """After audit records are acknowledged: the checkpoints that are due (spec/witness.md), in one write."""
        self._checkpoints.written(written)
        due = self._checkpoints.leaving(leaving) if leaving else []
        due += self._checkpoints.due(stopping=stopping)
        if due:
            await writer.write(due)
            CHECKPOINTS.inc(len(due))

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: Offsets, *, now: bool) -> None:
        """Commit ``offsets`` (all audited) with those held before: ``now``, or when due (gateway.kafka.commits)."""
        self._commits.add(offsets)
        owned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        positions = {
            TopicPartition(t, p): offset for (t, p), offset in self._commits.take(now=now, owned=owned).items()
        }
        if not positions:
            return
        try:
            await consumer.commit(positions)
        except CommitFailedError:
            # The partitions moved while we worked. Everything is written and audited;
            # the new owner reads the chain head and skips these records.
            log.warning("commit_failed_after_rebalance", partitions=len(positions))

    def _prune(self, timestamps: list[int]) -> None:
        """Forget identities too old to be anything but EVENT_STALE; at most once an hour (Kafka time)."""
        if not timestamps:
            return
        # Never ahead of the wall clock: a partner's far-future timestamp must not wipe the memory.
        now_ms = min(max(timestamps), int(time.time() * 1000))
        if now_ms - self._pruned_at_ms < _PRUNE_EVERY_MS:
            return
        self._pruned_at_ms = now_ms
        keep_days = max(a.max_event_age_days for a in self.rules.agreements) + 1
        forgotten = self.index.prune(now_ms - keep_days * 86_400_000)
        if forgotten:
            log.info("duplicate_memory_pruned", forgotten=forgotten, kept=len(self.index))
        # A held report is released with its own time of receipt: signals five years before it still count.
        oldest_held = self.review.oldest_received()
        since_ms = min(now_ms, to_millis(oldest_held)) if oldest_held is not None else now_ms
        forgotten = self.clients.memory.prune(since_ms - WINDOW_MS)
        if forgotten:
            log.info("client_memory_pruned", forgotten=forgotten, kept=len(self.clients.memory))

    def _observe(self, result: BatchResult, started: float, decided: float, written: float) -> None:
        BATCH_SECONDS.labels("decide").observe(decided - started)
        BATCH_SECONDS.labels("write").observe(written - decided)
        SKIPPED.inc(result.skipped)
        for stage, seconds in result.timings:
            self._stage_seconds[stage].observe(seconds)
        # One line per decision at info: position, partner, event id, outcome, codes; never content.
        # At warning level (GKT_LOG_LEVEL) it costs nothing.
        detailed = log.is_enabled_for(logging.INFO)
        # Counted per batch, then added once per label set: a labels() lookup per decision costs more.
        outcomes: Counter[tuple[str, str]] = Counter()
        reasons: Counter[tuple[str, str]] = Counter()
        for decision in result.decisions:
            partner = decision.partner or "unknown"
            outcomes[partner, decision.outcome.value] += 1
            for reason in decision.reasons:
                reasons[partner, reason.code.value] += 1
            if detailed:
                log.info("decided", **decided_fields(decision))
        _count_verdicts_and_feedback(result, outcomes, reasons, detailed=detailed)
        for labels, count in outcomes.items():
            DECISIONS.labels(*labels).inc(count)
        for labels, count in reasons.items():
            REASONS.labels(*labels).inc(count)
        for chain, head in self.heads.items():
            CHAIN_SEQ.labels(chain).set(head.seq)
        count = len(result.decisions) + len(result.verdicts) + len(result.feedback)
        self.decided += count
        log.info("batch", decided=count, skipped=result.skipped, total=self.decided)

    def _observe_quarantine(self) -> None:
        """R5: the queue reviewers work through, from the audit log (every process shows the whole queue)."""
        now = time.time()
        if now - self._quarantine_observed < 1.0:
            return
        self._quarantine_observed = now
        counts = self.review.open_by_reason()
        for code in {ReasonCode.REVIEW_REQUIRED.value, ReasonCode.REFERENCE_UNKNOWN.value, *counts}:
            QUARANTINE_OPEN.labels(code).set(counts.get(code, 0))
        oldest = self.review.oldest_received()
        QUARANTINE_OLDEST.set(max(0.0, now - oldest.timestamp()) if oldest else 0.0)


def _count_verdicts_and_feedback(
    result: BatchResult, outcomes: Counter[tuple[str, str]], reasons: Counter[tuple[str, str]], *, detailed: bool
) -> None:
    """Verdicts and feedback steps counted under the partner labels ``review`` and ``feedback``; logged at info."""
    decided: list[tuple[str, VerdictDecision | FeedbackDecision]] = [
        *(("review", verdict) for verdict in result.verdicts),
        *(("feedback", step) for step in result.feedback),
    ]
    for label, decision in decided:
        outcomes[label, decision.outcome.value] += 1
        for reason in decision.reasons:
            reasons[label, reason.code.value] += 1
        if detailed:
            log.info(**_decided_line(decision))


def _decided_line(decision: VerdictDecision | FeedbackDecision) -> dict[str, Any]:
    """The info line of a verdict or step: position, who, about what, outcome and codes; never content."""
    codes = [r.code.value for r in decision.reasons]
    details = [r.detail for r in decision.reasons]  # our own words: which check failed, never what was sent
    common = {
        "inbound": str(decision.position),
        "outcome": decision.outcome.value,
        "reasons": codes,
        "details": details,
    }
    if isinstance(decision, FeedbackDecision):
        return {"event": "feedback_decided", "signal_id": decision.signal_id, "team": decision.team, **common}
    kind = decision.verdict.kind.value if decision.verdict else None
    return {"event": "verdict_decided", "item": decision.named_item, "reviewer": decision.reviewer, "verdict": kind,
            **common}  # fmt: skip
