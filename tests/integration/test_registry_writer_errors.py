"""The registry writer survives what it did not expect: an error out of a transaction that
is not a KafkaError makes it step down and take over again — the request is answered, the
writer task does not end while its process lives on. (aiokafka's IllegalOperation, which a
fenced producer raises once its state is fatal, is handled as fencing: the writer waits
for the group to assign the requests partition again; tests/integration/
test_registry_failover.py pauses a writer until that happens.)"""

from __future__ import annotations

from typing import Any

import pytest

from eventgate.registry.requests import CreateType
from eventgate.registry.service import Registry
from eventgate.registry.writer import RegistryWriter
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

pytestmark = pytest.mark.integration


async def test_the_writer_steps_down_and_serves_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_commit = RegistryWriter._commit
    failures = [RuntimeError("boom")]

    async def flaky_commit(self: RegistryWriter, *args: Any) -> Any:
        if failures:
            raise failures.pop()
        return await real_commit(self, *args)

    monkeypatch.setattr(RegistryWriter, "_commit", flaky_commit)
    await ensure_topics(settings)
    async with Registry(settings, name="writer-errors", request_timeout_s=60) as registry:
        reply = await registry.request(CreateType(key="after.error", name="After error"))
        reply.raise_for_code()
        assert not failures  # the first transaction did fail
        assert registry.state.get("after.error") is not None
        writer = registry.writer
        assert writer is not None and writer.takeovers >= 2  # stepped down, took over again
