"""aiokafka's records as the gateway's plain data: the one place a ``ConsumerRecord`` becomes an ``InboundRecord``.

Past ``gateway/kafka/`` no module sees an aiokafka type (an import-linter
contract in ``make test`` keeps it so); followers and the consume loop hand
plain records to everything else.
"""

from aiokafka import ConsumerRecord

from gateway.inbound import InboundRecord, Position

_LOG_APPEND_TIME = 1  # Kafka's timestamp type of a record the broker dated; 0 is CreateTime (the producer's)


def plain(record: ConsumerRecord) -> InboundRecord:
    """Position, Kafka timestamp and whose clock it is, value, headers (null values kept) and key of one record."""
    return InboundRecord(
        position=Position(record.topic, record.partition, record.offset),
        timestamp_ms=record.timestamp,
        value=record.value,
        headers=tuple(record.headers or ()),
        key=record.key,
        broker_time=record.timestamp_type == _LOG_APPEND_TIME,
    )
