"""What a batch asks of the registry (``ingest.registry_requests``): each new parameter
once per process, and again after the transaction that carried the request aborted."""

from __future__ import annotations

from typing import Any, cast

import orjson
from aiokafka import TopicPartition

from eventgate.ingest.decide import decide_batch
from eventgate.ingest.decode import RawRecord, decode
from eventgate.ingest.registry_requests import RegistryFeedback
from eventgate.ingest.validators import TypeValidators
from eventgate.registry.model import EventType, new_auto_type
from eventgate.registry.state import RegistryState
from eventgate.settings import Settings

NOW = 1_790_000_000_000
TP = TopicPartition("eg.ingest", 0)


class Types:
    def __init__(self, *types: EventType) -> None:
        self.types = {t.key: t for t in types}

    def get(self, key: str) -> EventType | None:
        return self.types.get(key)

    def launch_workflows(self, key: str) -> tuple[str, ...]:
        return ()

    def stop_workflows(self, key: str) -> tuple[str, ...]:
        return ()


def _batch(state: Types, offset: int, params: dict[str, Any]) -> list[Any]:
    body = {"eventTypeKey": "purchase", "keyValue": "c1", "params": params}
    record = RawRecord("eg.ingest", 0, offset, NOW, b"c1", orjson.dumps(body))
    return decide_batch([decode(record)], state, TypeValidators())


def _kinds(requests: list[tuple[bytes, bytes]]) -> list[str]:
    return [key.decode().split(":")[3] for key, _ in requests]


def test_a_new_param_is_asked_for_once_and_again_after_an_abort() -> None:
    state = Types(new_auto_type("purchase", NOW - 7_200_000))
    registry = cast(RegistryState, state)
    feedback = RegistryFeedback(Settings())

    first = feedback.requests(_batch(state, 1, {"sku": "a"}), frozenset(), registry, TP, 2)
    assert _kinds(first) == ["merge", "touch"]
    merge = orjson.loads(first[0][1])
    assert merge["key"] == "purchase"
    assert "sku" in orjson.dumps(merge).decode()

    # Sent once: the registry view does not show it yet, the same news is not asked again.
    again = feedback.requests(_batch(state, 2, {"sku": "b"}), frozenset(), registry, TP, 3)
    assert again == []

    # The transaction carrying the first requests aborted: they must be asked for again.
    feedback.forget()
    replay = feedback.requests(_batch(state, 1, {"sku": "a"}), frozenset(), registry, TP, 2)
    assert replay == first
