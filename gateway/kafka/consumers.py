"""Every Kafka consumer of the gateway and of ``gkt``: one place for how records are read (spec/wire.md).

Partners publish with clients we did not write ("Partners' Kafka clients"):

- any codec: aiokafka's extras (lz4, snappy, zstd) are dependencies of the project;
- ``read_committed``: a record of an aborted transaction is never read, nor a
  control record (Apache Kafka filters them; the embedded broker hands out no
  aborted-transaction list, so there aborted records read as committed);
- header keys that are not UTF-8, and batches that cannot be decoded, neither
  stop the consumer (``gateway.kafka.lenient_records``, ``gateway.kafka.blocked``);
- a stop in the middle of a broker outage closes every connection
  (``gateway.kafka.fetcher_close``).
"""

from typing import Any

from aiokafka import AIOKafkaConsumer

from gateway.kafka import fetcher_close, lenient_records

ISOLATION_LEVEL = "read_committed"


def new_consumer(*topics: str, bootstrap: str, **options: Any) -> AIOKafkaConsumer:
    """An aiokafka consumer that reads committed records only, from the earliest offset, committing by hand."""
    lenient_records.install()
    fetcher_close.install()
    settings: dict[str, Any] = {
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": ISOLATION_LEVEL,
    }
    return AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, **(settings | options))
