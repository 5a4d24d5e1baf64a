"""Which Redis client failures pause the processor (retriable) and which are bugs."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from eventgate.counters.store import redis_errors
from eventgate.errors import DependencyUnavailable

pytestmark = pytest.mark.unit

RESET = (
    "unable to perform operation on <TCPTransport closed=True reading=False 0x5581>;"
    " the handler is closed"
)


@pytest.mark.parametrize(
    "error",
    [RedisConnectionError("refused"), ConnectionResetError(104, "reset"), RuntimeError(RESET)],
)
async def test_unreachable_redis_is_retriable(error: Exception) -> None:
    with pytest.raises(DependencyUnavailable) as caught:
        async with redis_errors():
            raise error
    assert caught.value.retriable


async def test_other_runtime_errors_are_not_hidden() -> None:
    with pytest.raises(RuntimeError, match="a bug"):
        async with redis_errors():
            raise RuntimeError("a bug")
