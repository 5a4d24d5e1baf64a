"""eventgate on a secured Apache Kafka (SASL_SSL, SCRAM-SHA-512, ACLs; ``kafka_secure.py``)
and a TLS Redis with ACL users: the whole pipeline runs as the restricted principals, and
what the ACLs do not grant is refused — wrong password, no ACLs, names outside eventgate's
prefixes, clear text, an untrusted CA."""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
)
from pydantic import SecretStr
from secured import OUTSIDER, secure_kafka, secured_settings, tls_redis
from streams import bodies, event, kill, pipeline, produce, read_committed, worker_env

from eventgate.connections import kafka_common
from eventgate.counters.model import Figures
from eventgate.devstack.kafka_secure import ADMIN_USER, SecureKafka
from eventgate.devstack.redis_tls import RedisTls
from eventgate.errors import ConfigurationError
from eventgate.registry.model import WorkflowStatus
from eventgate.registry.requests import CreateType, PutWorkflow, WorkflowBody
from eventgate.registry.service import Registry
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

Stack = tuple[SecureKafka, RedisTls]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("secured")
    with tls_redis(home) as redis, secure_kafka(home) as kafka:
        yield kafka, redis


@pytest.fixture
def settings(stack: Stack) -> Settings:
    return secured_settings(*stack)


def as_user(settings: Settings, user: str, password: str) -> Settings:
    return settings.model_copy(
        update={"kafka_sasl_username": user, "kafka_sasl_password": SecretStr(password)}
    )


async def _closing(client: Any, use: Callable[[], Awaitable[Any]]) -> Any:
    """Start ``client``, run ``use``, and always close the client."""
    try:
        await client.start()
        return await use()
    finally:
        await (client.close() if isinstance(client, AIOKafkaAdminClient) else client.stop())


async def _setup(registry: Registry) -> None:
    (await registry.request(CreateType(key="purchase", name="Purchase"))).raise_for_code()
    body = WorkflowBody(id="wf-a", name="A", status=WorkflowStatus.ACTIVE, launch_on=("purchase",))
    (await registry.request(PutWorkflow(workflow=body))).raise_for_code()


async def test_the_pipeline_runs_end_to_end_as_the_restricted_principals(
    settings: Settings,
) -> None:
    assert settings.kafka_sasl_username == "eventgate"
    assert settings.redis_url.get_secret_value().startswith("rediss://eventgate:")
    async with pipeline(settings, _setup) as running:  # creates the topics: Create ACL
        await produce(
            settings,
            [
                event("purchase", "c1", eventId="p-1"),
                event("purchase", "c2", eventId="p-2"),
                event("click", "c3", eventId="k-1"),  # unknown: auto-registered
            ],
        )
        launches = bodies(await read_committed(settings, "workflow.launch", expect=2))
        assert sorted((b["eventId"], b["workflowId"]) for b in launches) == [
            ("p-1", "wf-a"),
            ("p-2", "wf-a"),
        ]
        assert running.registry.state.get("click") is not None
        wanted = {"purchase": Figures(2, 2, 0, 0), "click": Figures(1, 0, 0, 0)}
        async with asyncio.timeout(30):
            while (figures := await running.store.figures(list(wanted))) != wanted:
                await asyncio.sleep(0.2)
        assert figures == wanted


async def test_a_worker_process_runs_from_the_printed_variables(
    stack: Stack, settings: Settings, tmp_path: Path
) -> None:
    """``eventgate worker`` configured only by the ``EVENTGATE_*`` variables that
    ``devstack up --secure`` prints (plus names and sizes) serves the registry and launches."""
    kafka, redis = stack
    env = worker_env(settings) | kafka.settings_env() | redis.settings_env()
    await ensure_topics(settings)
    with (tmp_path / "worker.log").open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "eventgate", "worker"], env=env, stdout=log, stderr=log
        )
    try:
        # The worker is the only registry writer: these requests wait for it to serve.
        async with Registry(
            settings, name="test", is_writer_candidate=False, request_timeout_s=60
        ) as registry:
            await _setup(registry)
        await produce(settings, [event("purchase", "c9", eventId="w-1")])
        launches = bodies(await read_committed(settings, "workflow.launch", expect=1))
        assert [(b["eventId"], b["workflowId"]) for b in launches] == [("w-1", "wf-a")]
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
    finally:
        kill(worker, signal.SIGTERM)


async def test_a_wrong_scram_password_is_refused(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = as_user(settings, "eventgate", "not-the-password")
    admin = AIOKafkaAdminClient(**kafka_common(wrong, "wrong-password"), request_timeout_ms=10_000)
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await _closing(admin, admin.list_topics)
    assert "SaslAuthenticationFailed" in caplog.text


async def test_a_principal_without_acls_can_do_nothing(stack: Stack, settings: Settings) -> None:
    await ensure_topics(settings)  # eventgate's own topics exist…
    kafka, _ = stack
    outsider = as_user(settings, OUTSIDER, kafka.passwords[OUTSIDER])
    with pytest.raises(ConfigurationError, match="Authorization failed"):
        await ensure_topics(outsider)  # …and the outsider may not even see them
    producer = AIOKafkaProducer(**kafka_common(outsider, "outsider"), request_timeout_ms=10_000)
    with pytest.raises(TopicAuthorizationFailedError):
        await _closing(producer, lambda: producer.send_and_wait(settings.topic("ingest"), b"{}"))


async def test_eventgate_is_confined_to_its_prefixes(stack: Stack, settings: Settings) -> None:
    kafka, _ = stack
    foreign = "otherapp.orders"
    root = as_user(settings, ADMIN_USER, kafka.passwords[ADMIN_USER])
    admin = AIOKafkaAdminClient(**kafka_common(root, "admin"))
    await _closing(admin, lambda: admin.create_topics([NewTopic(foreign, 1, 1)]))
    await ensure_topics(settings)

    mine = AIOKafkaAdminClient(**kafka_common(settings, "eventgate-admin"))
    answer = await _closing(mine, lambda: mine.create_topics([NewTopic("otherapp.new", 1, 1)]))
    assert [code for _, code, *_ in answer.topic_errors] == [29]  # TOPIC_AUTHORIZATION_FAILED

    producer = AIOKafkaProducer(**kafka_common(settings, "p"), request_timeout_ms=10_000)
    with pytest.raises(TopicAuthorizationFailedError):
        await _closing(producer, lambda: producer.send_and_wait(foreign, b"{}"))

    consumer = AIOKafkaConsumer(
        settings.topic("ingest"), **kafka_common(settings, "c"), group_id="otherapp-group"
    )
    with pytest.raises(GroupAuthorizationFailedError):
        await _closing(consumer, lambda: consumer.getmany(timeout_ms=5000))

    transactional = AIOKafkaProducer(
        **kafka_common(settings, "t"), transactional_id="otherapp.tx", request_timeout_ms=10_000
    )
    with pytest.raises(TransactionalIdAuthorizationFailed):
        await _closing(transactional, lambda: asyncio.sleep(0))


async def test_clear_text_and_an_untrusted_ca_are_refused(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    plain = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=5000)
    with pytest.raises(KafkaConnectionError):
        await _closing(plain, plain.list_topics)
    # The system trust store does not know the local CA: the TLS handshake fails.
    untrusted = kafka_common(settings, "untrusted") | {"ssl_context": ssl.create_default_context()}
    admin = AIOKafkaAdminClient(**untrusted, request_timeout_ms=5000)
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaError):
        await _closing(admin, admin.list_topics)
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
