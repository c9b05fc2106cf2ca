"""Broker factory and Kafka helpers that work on Apache Kafka and on tansu.

Choices that matter on both: ``acks="all"`` and no idempotence (tansu does not
support idempotent producers), short session/heartbeat (tansu joins a group in
about session_timeout/2), a short fetch wait (fetch latency is about half of it),
and offsets committed explicitly by each consumer after its side effects.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from shared.settings import KafkaSettings

log = logging.getLogger(__name__)


def _security(settings: KafkaSettings) -> BaseSecurity | None:
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
    use_ssl = protocol.endswith("SSL")
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    password = (
        settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    )
    user = settings.kafka_sasl_username or ""
    cls = {
        "PLAIN": SASLPlaintext,
        "SCRAM-SHA-256": SASLScram256,
        "SCRAM-SHA-512": SASLScram512,
    }[settings.kafka_sasl_mechanism]
    return cls(user, password, ssl_context=context if use_ssl else None, use_ssl=use_ssl)


def make_broker(
    settings: KafkaSettings, *, graceful_timeout: float = 15.0, **kwargs: Any
) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap.split(","),
        client_id=settings.kafka_client_id,
        acks="all",
        enable_idempotence=False,
        linger_ms=settings.kafka_linger_ms,
        # the largest record any producer sends (a dead letter); the topics' own
        # max.message.bytes and ``check_size`` hold the other records to their limit
        max_request_size=settings.deadletter_max_bytes,
        request_timeout_ms=settings.kafka_request_timeout_ms,
        graceful_timeout=graceful_timeout,
        security=_security(settings),
        logger=logging.getLogger("faststream"),
        **kwargs,
    )


def consumer_options(settings: KafkaSettings, group_id: str) -> dict[str, Any]:
    """Subscriber options shared by every consumer group of the pipeline."""
    return {
        "group_id": group_id,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        # never smaller than the largest record, or that record would block its partition
        "max_partition_fetch_bytes": settings.deadletter_max_bytes,
        "fetch_max_bytes": max(52_428_800, settings.deadletter_max_bytes),
    }


class MessageTooLarge(ValueError):
    """A record over the topic's maximum size: the broker would refuse it for ever."""


def check_size(payload: bytes, limit: int) -> bytes:
    """``payload`` if it fits ``limit`` (TRIAGE_KAFKA_MAX_MESSAGE_BYTES): some brokers
    (tansu) do not enforce a topic's max.message.bytes, so the producer does."""
    if len(payload) > limit:
        raise MessageTooLarge(
            f"{len(payload)} bytes, over TRIAGE_KAFKA_MAX_MESSAGE_BYTES ({limit})"
        )
    return payload


def topic_configs(settings: KafkaSettings, name: str) -> dict[str, str]:
    """The configuration of a topic Triage creates (pure)."""
    configs = {
        "min.insync.replicas": str(settings.kafka_min_insync_replicas),
        "max.message.bytes": str(settings.kafka_max_message_bytes),
    }
    if name == settings.topic_deadletter:
        days_ms = int(settings.kafka_deadletter_retention_days * 86_400_000)
        configs.update({"max.message.bytes": str(settings.deadletter_max_bytes),
                        "retention.ms": str(days_ms)})  # fmt: skip
    return configs


def admin_options(settings: KafkaSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap.split(","),
        "client_id": f"{settings.kafka_client_id}-admin",
        "request_timeout_ms": settings.kafka_request_timeout_ms,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol != "PLAINTEXT":
        options["ssl_context"] = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
    if settings.kafka_security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = (
            settings.kafka_sasl_password.get_secret_value()
            if settings.kafka_sasl_password
            else None
        )
    return options


async def ensure_topics(settings: KafkaSettings, names: list[str]) -> None:
    """Create missing topics with the configured partitions, replicas and configs
    (``topic_configs``); a no-op for the topics that exist."""
    if not settings.kafka_create_topics:
        return
    admin = AIOKafkaAdminClient(**admin_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if not missing:
            return
        new = [
            NewTopic(n, settings.kafka_topic_partitions, settings.kafka_replication_factor,
                     topic_configs=topic_configs(settings, n))
            for n in missing
        ]  # fmt: skip
        # another replica may have created them first
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(new)
        log.info("created topics %s with %d partitions", missing, settings.kafka_topic_partitions)
    finally:
        await admin.close()
