"""Prometheus metrics of the gateway: what an operator watches. No personal data in labels."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
# process_start_time_seconds and the process's CPU and memory: a restart loop shows as a start time that keeps
# changing (alert GktGatewayRestarting), which "up" alone misses between scrapes.
ProcessCollector(registry=REGISTRY)

DECISIONS = Counter(
    "gkt_decisions_total",
    "Decisions by partner and outcome",
    ["partner", "outcome"],
    registry=REGISTRY,
)
REASONS = Counter(
    "gkt_reasons_total",
    "Reason codes given, by partner and code",
    ["partner", "code"],
    registry=REGISTRY,
)
SKIPPED = Counter(
    "gkt_already_decided_total",
    "Inbound records skipped because the audit log already decided them",
    registry=REGISTRY,
)
BATCH_SECONDS = Histogram(
    "gkt_batch_seconds",
    "Time to decide, write and commit one batch",
    ["phase"],
    registry=REGISTRY,
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CHECKPOINTS = Counter(
    "gkt_checkpoints_total", "Checkpoints of audit chains written to gkt.checkpoints (witness.md)", registry=REGISTRY
)
CHAIN_SEQ = Gauge("gkt_audit_chain_seq", "Seq of the last audit record per chain", ["chain"], registry=REGISTRY)
REFERENCE_RECORDS = Gauge("gkt_reference_records", "Clients in the reference table", registry=REGISTRY)
REFERENCE_SKIPPED = Counter("gkt_reference_invalid_total", "Reference records skipped as invalid", registry=REGISTRY)
FOLLOW_SKIPPED = Counter(
    "gkt_follow_skipped_total",
    "Records of a followed topic (reference data, audit log) that could not be applied and were skipped",
    ["topic"],
    registry=REGISTRY,
)
BROKER_REACHABLE = Gauge(
    "gkt_broker_reachable", "1 while the gateway's last probe of Kafka answered", registry=REGISTRY
)
PARTITION_BLOCKED = Gauge(
    "gkt_partition_blocked",
    "1 while a partition waits at a record batch that cannot be decoded (spec/wire.md); every other partition goes on",
    ["topic", "partition"],
    registry=REGISTRY,
)
READY = Gauge("gkt_ready", "1 when the gateway is ready", registry=REGISTRY)
CONSUMER_LAG = Gauge(
    "gkt_consumer_lag",
    "Records on an inbound partition not yet decided (high watermark minus position)",
    ["partition"],
    registry=REGISTRY,
)
STAGE_SECONDS = Histogram(
    "gkt_stage_seconds",
    "Time each decision stage takes, per record",
    ["stage"],
    registry=REGISTRY,
    buckets=(0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01),
)
QUARANTINE_OPEN = Gauge(
    "gkt_quarantine_open",
    "Quarantined reports still open for review, by reason code (spec/review.md, R5)",
    ["reason"],
    registry=REGISTRY,
)
QUARANTINE_OLDEST = Gauge(
    "gkt_quarantine_oldest_seconds",
    "Age of the oldest open quarantined report, from its Kafka time of receipt; 0 when none is open",
    registry=REGISTRY,
)
