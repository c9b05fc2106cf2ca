"""Topic, producer and consumer limits derive from the same settings (issue 13, items 2, 12)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.kafka import MessageTooLarge, check_size, consumer_options, topic_configs
from shared.settings import KafkaSettings


def test_topics_get_replicas_sizes_and_the_dead_letter_retention() -> None:
    s = KafkaSettings(kafka_min_insync_replicas=2, kafka_replication_factor=3,
                      kafka_deadletter_retention_days=30)  # fmt: skip
    received = topic_configs(s, s.topic_received)
    assert received == {"min.insync.replicas": "2", "max.message.bytes": "1048576"}
    letters = topic_configs(s, s.topic_deadletter)
    assert letters["retention.ms"] == str(30 * 86_400_000)
    assert int(letters["max.message.bytes"]) == s.deadletter_max_bytes


def test_consumers_fetch_the_largest_record_any_topic_holds() -> None:
    s = KafkaSettings()
    options = consumer_options(s, "g")
    assert options["max_partition_fetch_bytes"] >= s.deadletter_max_bytes
    assert options["fetch_max_bytes"] >= s.deadletter_max_bytes
    assert s.deadletter_max_bytes > 2 * s.kafka_max_message_bytes


def test_more_insync_replicas_than_replicas_is_refused() -> None:
    with pytest.raises(ValidationError, match="MIN_INSYNC_REPLICAS"):
        KafkaSettings(kafka_min_insync_replicas=2)


def test_a_record_over_the_limit_is_refused_before_it_is_sent() -> None:
    assert check_size(b"x" * 10, 10) == b"x" * 10
    with pytest.raises(MessageTooLarge, match="11 bytes"):
        check_size(b"x" * 11, 10)
