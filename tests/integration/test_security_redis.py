"""Redis over TLS with ACL users (``devstack/redis_tls.py``): eventgate's restricted user
runs the counters' scripts and reads, and everything else is refused — clear text, no or a
wrong password, an untrusted certificate, keys outside its pattern, dangerous commands."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoPermissionError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from secured import OUTSIDER, secured_settings, tls_redis

from eventgate.connections import RedisClient, redis_client
from eventgate.counters.batch import BatchEntry, Outcome
from eventgate.counters.store import CounterStore
from eventgate.devstack.redis_tls import RedisTls
from eventgate.settings import Settings


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisTls]:
    with tls_redis(tmp_path_factory.mktemp("redis-tls")) as service:
        yield service


@pytest.fixture
def settings(tls: RedisTls) -> Settings:
    return secured_settings(None, tls)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[RedisClient]:
    redis = redis_client(settings)
    yield redis
    await redis.aclose()


def _raw(tls: RedisTls, **kwargs: object) -> Redis:
    """A client on the TLS port with the local CA, and whatever ``kwargs`` change."""
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "port": tls.port,
        "ssl": True,
        "ssl_ca_certs": str(tls.certs.ca_cert),
        "socket_timeout": 5,
        "retry": Retry(NoBackoff(), 0),  # a refusal is final: no reconnect attempts
        **kwargs,
    }
    return Redis(**options)  # type: ignore[arg-type]


async def _fails(client: Redis, error: type[RedisError], *command: str) -> str:
    try:
        with pytest.raises(error) as caught:
            await client.execute_command(*command)  # type: ignore[no-untyped-call]
    finally:
        await client.aclose()
    return str(caught.value)


async def test_the_counters_work_through_tls_as_the_restricted_user(
    settings: Settings, client: RedisClient
) -> None:
    store = CounterStore(client, settings)
    now = store.now_ms()
    entry = BatchEntry(
        position=0,
        timestamp_ms=now,
        type_key="purchase",
        dedupe_id="e-1",
        outcome=Outcome.ACCEPTED,
        reason=None,
        launched=("wf-a",),
        stopped=(),
        event_id="e-1",
        key_value="c1",
    )
    # EVALSHA (SCRIPT LOAD first): the script's own HSET/ZADD/LPUSH… run as this user.
    result = await store.apply_batch(0, 0, 1, [entry], now)
    assert result.duplicates == frozenset()
    await store.roll()
    figures = (await store.figures(["purchase"]))["purchase"]  # pipelined HMGETs
    assert (figures.volume24h, figures.launched24h) == (1, 1)
    items, _ = await store.history("purchase")  # pipelined LRANGEs
    assert [item.event_id for item in items] == ["e-1"]


async def test_keys_outside_the_pattern_and_dangerous_commands_are_refused(
    client: RedisClient,
) -> None:
    for command in (
        ("HSET", "other:key", "f", "1"),
        ("HGET", "other:key", "f"),
        ("HGET", "{otherapp.p0}:tot", "f"),
        ("FLUSHALL",),
        ("FLUSHDB",),
        ("CONFIG", "GET", "maxmemory"),
        ("KEYS", "*"),
        ("SCAN", "0"),
        ("ACL", "WHOAMI"),
        ("EVAL", "return redis.call('FLUSHALL')", "0"),
    ):
        with pytest.raises(NoPermissionError):
            await client.execute_command(*command)


async def test_a_script_cannot_reach_outside_the_key_pattern(
    settings: Settings, client: RedisClient
) -> None:
    """Redis checks the keys a script touches against its caller's ACL: the counters'
    own script, pointed at another application's tag, is refused."""
    store = CounterStore(client, settings)
    with pytest.raises(NoPermissionError):
        await store.scripts.roll(keys=["{otherapp.p0}:tot"], args=[0])


async def test_no_password_and_a_wrong_password_are_refused(tls: RedisTls) -> None:
    message = await _fails(_raw(tls), AuthenticationError, "PING")
    assert "NOAUTH" in message or "authenticated" in message  # RESP2 / RESP3 handshakes
    wrong = _raw(tls, username="eventgate", password="not-the-password")  # noqa: S106
    assert "invalid username-password" in await _fails(wrong, AuthenticationError, "PING")
    disabled = _raw(tls, username="default", password="")
    await _fails(disabled, AuthenticationError, "PING")


async def test_a_user_without_rules_can_log_in_and_do_nothing(tls: RedisTls) -> None:
    outsider = _raw(tls, username=OUTSIDER, password=tls.passwords[OUTSIDER])
    await _fails(outsider, NoPermissionError, "HGET", "{eventgate.p0}:tot", "f")


async def test_clear_text_and_untrusted_certificates_are_refused(tls: RedisTls) -> None:
    plain = Redis(host="127.0.0.1", port=tls.port, socket_timeout=5, retry=Retry(NoBackoff(), 0))
    await _fails(plain, RedisConnectionError, "PING")
    # The system trust store does not know the local CA: the handshake fails.
    system_ca = ssl.get_default_verify_paths().cafile or ssl.get_default_verify_paths().capath
    untrusted = _raw(tls, ssl_ca_certs=system_ca)
    assert "certificate verify failed" in await _fails(untrusted, RedisConnectionError, "PING")
