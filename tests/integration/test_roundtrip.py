"""Through the broker: what ``gkt publish`` and ``gkt review release`` learn of a record they sent without an answer.

Nothing sent, or written but unanswered: the partner and the reviewer are told which, because one resends
the same record and the other must never send it again as new.
"""

from datetime import UTC, datetime

import pytest

from gateway.demo import samples as s
from gateway.errors import BrokerError
from gateway.kafka.admin import ensure_topics
from gateway.kafka.embedded import free_port
from gateway.kafka.follower import read_all
from gateway.kafka.roundtrip import NotSentError, UnansweredError, send_and_await
from gateway.provision.plan import TopicSpec
from gateway.review.desk import send_and_wait
from gateway.review.verdict import read_verdict
from gateway.topics import Topics

pytestmark = pytest.mark.kafka


def never(_: object) -> None:
    return None


async def test_no_kafka_is_nothing_sent(prefix: str) -> None:
    bootstrap = f"127.0.0.1:{free_port()}"
    with pytest.raises(NotSentError) as caught:
        await send_and_await(bootstrap, f"{prefix}answers", never, (f"{prefix}asks", b"x", None, []), 2)
    assert str(caught.value) == f"cannot reach Kafka at {bootstrap} to read {prefix}answers (KafkaConnectionError)"


async def test_a_missing_answer_topic_is_nothing_sent_and_names_the_prefix(kafka: str, prefix: str) -> None:
    await ensure_topics(kafka, [TopicSpec(f"{prefix}asks", 1, {})])
    with pytest.raises(NotSentError) as caught:
        await send_and_await(kafka, f"{prefix}answers", never, (f"{prefix}asks", b"x", None, []), 2)
    assert str(caught.value) == f"topic {prefix}answers does not exist (is the topic prefix right?)"
    assert await read_all(kafka, f"{prefix}asks") == []


async def test_written_but_unanswered_names_where_it_was_written(kafka: str, prefix: str) -> None:
    await ensure_topics(kafka, [TopicSpec(f"{prefix}asks", 1, {}), TopicSpec(f"{prefix}answers", 1, {})])
    with pytest.raises(UnansweredError) as caught:
        await send_and_await(kafka, f"{prefix}answers", never, (f"{prefix}asks", b"x", None, []), 1)
    written = await read_all(kafka, f"{prefix}asks")
    assert [(r.position, r.value) for r in written] == [(caught.value.position, b"x")]


async def test_a_reviewer_is_told_whether_the_verdict_was_sent(kafka: str, prefix: str) -> None:
    topics = Topics(prefix)
    value = s.verdict("gkt.in.nla/0/1", "sha256:" + "0" * 64, "release", "r-0001", datetime.now(UTC))
    verdict = read_verdict(value)
    with pytest.raises(BrokerError) as down:
        await send_and_wait(f"127.0.0.1:{free_port()}", topics, verdict, "sig", 1)
    assert "the verdict was not sent, or perhaps not; run the same command again" in str(down.value)
    await ensure_topics(kafka, [TopicSpec(topics.review, 1, {}), TopicSpec(topics.audit, 1, {})])
    with pytest.raises(BrokerError) as unanswered:
        await send_and_wait(kafka, topics, verdict, "sig", 1)
    assert "the verdict was written, but the gateway did not decide it in time" in str(unanswered.value)
    assert len(await read_all(kafka, topics.review)) == 1
