"""Client construction for Kafka and Redis from ``Settings`` (TLS, SASL/SCRAM, ACL users).

Every I/O client of eventgate is built here and passed in, so tests can inject their own.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiokafka.conn as aiokafka_conn
import aiokafka.producer.sender as aiokafka_sender
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from eventgate.settings import KafkaSecurityProtocol, Settings

RedisClient = Redis | RedisCluster


_aiokafka_send = aiokafka_conn.AIOKafkaConnection.send


def _send(
    self: aiokafka_conn.AIOKafkaConnection, request: Any, expect_response: bool = True
) -> Any:
    """``AIOKafkaConnection.send`` for uvloop: a write to a connection the peer reset raises
    ``RuntimeError`` there, not the ``OSError`` aiokafka handles (aio-libs/aiokafka#1038),
    and it escaped from the client's background tasks. The fault suite's Kafka-link resets
    found it: the metadata task of a consumer died, and the worker exited 1 when stopped.
    Here it is the broken connection it is: closed, and ``KafkaConnectionError`` raised,
    which aiokafka's callers treat as a lost connection."""
    try:
        return _aiokafka_send(self, request, expect_response)
    except KafkaError:  # aiokafka's own errors subclass RuntimeError: not ours to change
        raise
    except RuntimeError as err:
        writer = getattr(self, "_writer", None)
        if writer is None or not writer.transport.is_closing():
            raise
        self.close(reason=aiokafka_conn.CloseReason.CONNECTION_BROKEN)
        raise KafkaConnectionError(f"Connection at {self.host}:{self.port} broken: {err}") from err


aiokafka_conn.AIOKafkaConnection.send = _send


def kafka_common(settings: Settings, client_id: str) -> dict[str, Any]:
    """Keyword arguments shared by every aiokafka client: address, security, client id."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "client_id": client_id,
        "security_protocol": settings.kafka_security_protocol.value,
    }
    protocol = settings.kafka_security_protocol
    if protocol in (KafkaSecurityProtocol.SSL, KafkaSecurityProtocol.SASL_SSL):
        context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
        if settings.kafka_ssl_certfile:
            context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile or None)
        kwargs["ssl_context"] = context
    if protocol in (KafkaSecurityProtocol.SASL_PLAINTEXT, KafkaSecurityProtocol.SASL_SSL):
        kwargs["sasl_mechanism"] = settings.kafka_sasl_mechanism.value
        kwargs["sasl_plain_username"] = settings.kafka_sasl_username
        kwargs["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return kwargs


# A transaction that starts right after the producer's previous commit meets
# CONCURRENT_TRANSACTIONS on its first AddPartitionsToTxn while the coordinator still writes
# the previous commit's markers. aiokafka then waits a fixed 20 ms (``BACKOFF_OVERRIDE`` in
# ``aiokafka.producer.sender``; ``retry_backoff_ms`` does not apply), though the markers take
# a few ms on a local broker: every back-to-back transaction of a busy partition lost ~20 ms.
# First send of a transaction, back to back, local broker: 23.2 ms with 20 ms, 7.1 with 5,
# 3.6 with 2, 2.7 with 1 (``.venv/bin/python bench/txn_micro.py``). 2 ms: at most a few
# extra, cheap requests per transaction.
TXN_RESTART_BACKOFF_S = 0.002


def transactional_producer(
    settings: Settings, client_id: str, transactional_id: str, **options: Any
) -> AIOKafkaProducer:
    """An idempotent, ``acks=all`` transactional producer (aiokafka's defaults are neither)."""
    if not hasattr(aiokafka_sender, "BACKOFF_OVERRIDE"):  # pragma: no cover - new aiokafka
        raise RuntimeError("aiokafka.producer.sender.BACKOFF_OVERRIDE is gone: review the tuning")
    aiokafka_sender.BACKOFF_OVERRIDE = TXN_RESTART_BACKOFF_S
    # The transaction's other requests (AddOffsetsToTxn, EndTxn) retry CONCURRENT_TRANSACTIONS
    # after retry_backoff_ms, 100 ms by default; at 10 ms the registry writer's p99 went
    # from ~120 to ~40 ms (bench/api_latency.py).
    options.setdefault("retry_backoff_ms", 10)
    return AIOKafkaProducer(
        **kafka_common(settings, client_id),
        transactional_id=transactional_id,
        enable_idempotence=True,
        acks="all",
        **options,
    )


def redis_client(settings: Settings) -> RedisClient:
    """An asyncio Redis (or Redis Cluster) client; ``rediss://`` turns TLS on."""
    url = settings.redis_url.get_secret_value()
    extra: dict[str, Any] = {"health_check_interval": 15, "socket_timeout": 10}
    if settings.redis_ssl_cafile:
        extra["ssl_ca_certs"] = settings.redis_ssl_cafile
    if settings.redis_cluster:
        return RedisCluster.from_url(url, **extra)
    return Redis.from_url(url, **extra)
