"""Prometheus metrics of ``gkt witness``: a registry of its own, so its ``/metrics`` shows only the witness."""

from prometheus_client import CollectorRegistry, Counter, Gauge, ProcessCollector

WITNESS_REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=WITNESS_REGISTRY)

COSIGNED = Counter("gkt_witness_cosigned_total", "Checkpoints cosigned, by chain", ["chain"], registry=WITNESS_REGISTRY)
COSIGNED_SIZE = Gauge(
    "gkt_witness_cosigned_size", "Records in the last cosigned checkpoint, by chain", ["chain"],
    registry=WITNESS_REGISTRY,
)  # fmt: skip
REFUSED = Gauge(
    "gkt_witness_refused", "1 for a chain the witness refused (evidence kept): alert on it", ["chain"],
    registry=WITNESS_REGISTRY,
)  # fmt: skip
SKIPPED = Counter(
    "gkt_witness_skipped_total",
    "Records on gkt.checkpoints that are no checkpoint the gateway signed (forged, garbled, another origin)",
    registry=WITNESS_REGISTRY,
)
ROUNDS = Counter("gkt_witness_rounds_total", "Rounds read to the end of the checkpoints", registry=WITNESS_REGISTRY)
RECORDS_READ = Counter(
    "gkt_witness_audit_records_total", "Audit records read to check consistency", registry=WITNESS_REGISTRY
)
