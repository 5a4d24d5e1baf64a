"""Deciding a batch and building its outputs (pure), checked against the shipped JSON
Schemas of the output topics."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventgate.counters.batch import Outcome
from eventgate.ingest.decide import batch_entries, decide_batch
from eventgate.ingest.decode import RawRecord, decode
from eventgate.ingest.outputs import COMMAND_NAMESPACE, build_outputs, command_id
from eventgate.ingest.reasons import RejectReason
from eventgate.ingest.validators import TypeValidators
from eventgate.registry.model import EventType, Validation, new_auto_type

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
NOW = 1_790_000_000_000


def _schema(name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


class Registry:
    def __init__(
        self,
        types: list[EventType],
        launch: dict[str, tuple[str, ...]],
        stop: dict[str, tuple[str, ...]],
    ) -> None:
        self.types = {t.key: t for t in types}
        self.launch, self.stop = launch, stop

    def get(self, key: str) -> EventType | None:
        return self.types.get(key)

    def launch_workflows(self, key: str) -> tuple[str, ...]:
        return self.launch.get(key, ())

    def stop_workflows(self, key: str) -> tuple[str, ...]:
        return self.stop.get(key, ())


def _record(offset: int, body: Any, key: bytes | None = b"c1") -> RawRecord:
    value = body if isinstance(body, bytes) else orjson.dumps(body)
    return RawRecord("eg.ingest", 2, offset, NOW - 1000 + offset, key, value)


@pytest.fixture
def registry() -> Registry:
    purchase = new_auto_type("purchase", NOW)
    strict = replace(
        new_auto_type("signup", NOW),
        validation=Validation(True, [{"name": "plan", "required": True, "type": "string"}]),
        segmentation=True,
    )
    return Registry([purchase, strict], {"purchase": ("wf-1", "wf-2")}, {"purchase": ("wf-9",)})


def test_decisions_cover_accept_validation_and_unregistered(registry: Registry) -> None:
    items = [
        decode(_record(10, {"eventTypeKey": "purchase", "keyValue": "c1", "eventId": "e1"})),
        decode(_record(11, {"eventTypeKey": "signup", "keyValue": "c1", "params": {"x": 1}})),
        decode(_record(12, {"eventTypeKey": "signup", "keyValue": "c1", "params": {"plan": "p"}})),
        decode(_record(13, {"eventTypeKey": "flood.1", "keyValue": "c1"})),
        decode(_record(14, b"{not json")),
    ]
    decisions = decide_batch(items, registry, TypeValidators(), frozenset({"flood.1"}))
    assert [d.outcome for d in decisions] == [
        Outcome.ACCEPTED,
        Outcome.REJECTED,
        Outcome.ACCEPTED,
        Outcome.REJECTED,
        Outcome.REJECTED,
    ]
    assert decisions[0].launches == ("wf-1", "wf-2") and decisions[0].stops == ("wf-9",)
    assert decisions[1].reason is RejectReason.VALIDATION_FAILED
    assert {v.path for v in decisions[1].violations} == {"params.plan", "params.x"}
    assert decisions[3].reason is RejectReason.REGISTRATION_LIMIT
    assert decisions[3].event_type is None
    assert decisions[4].reason is RejectReason.INVALID_JSON

    entries = batch_entries(decisions)
    assert [e.position for e in entries] == [10, 11, 12, 13, 14]
    assert entries[0].dedupe_id == "e1"  # explicit ids are deduplicated
    assert entries[2].dedupe_id is None  # derived ids never are
    assert entries[2].event_id == "eg.ingest/2/12"
    assert entries[3].type_key is None  # not attributed to any existing type
    assert entries[1].type_key == "signup" and entries[1].reason == "validation_failed"


def test_outputs_match_the_shipped_schemas_and_skip_duplicates(registry: Registry) -> None:
    items = [
        decode(
            _record(
                20,
                {
                    "eventTypeKey": "purchase",
                    "keyValue": "c7",
                    "eventId": "e-20",
                    "params": {"sku": "A", "n": 2},
                },
            )
        ),
        decode(_record(21, {"eventTypeKey": "purchase", "keyValue": "c7", "eventId": "e-21"})),
        decode(_record(22, {"eventTypeKey": "signup", "keyValue": "c8", "params": {"plan": "p"}})),
        decode(_record(23, {"eventTypeKey": "signup", "keyValue": "c8"})),
        decode(_record(24, b"\xff\xfe not utf-8", key=b"c9")),
    ]
    decisions = decide_batch(items, registry, TypeValidators())
    outputs = build_outputs(decisions, frozenset({21}), NOW)
    topics = [o.topic for o in outputs]
    assert topics == [
        "workflow.launch",
        "workflow.launch",
        "workflow.stop",  # event 20
        "segmentation",  # event 22 (signup has segmentation on)
        "rejected",
        "rejected",  # 23 validation, 24 utf-8
    ]
    command, segmentation = (
        _schema("workflow-command.schema.json"),
        _schema("segmentation.schema.json"),
    )
    rejected = _schema("rejected.schema.json")
    for out in outputs:
        body = orjson.loads(out.value)
        validator = {"segmentation": segmentation, "rejected": rejected}.get(out.topic, command)
        errors = list(validator.iter_errors(body))
        assert not errors, (out.topic, [e.message for e in errors])
        headers = dict(out.headers)
        assert headers["eventgate-event-id"]
        if out.topic.startswith("workflow."):
            assert headers["eventgate-command-id"].decode() == body["commandId"]
            assert out.key == b"c7"
    launch = orjson.loads(outputs[0].value)
    assert launch["commandId"] == str(uuid.uuid5(COMMAND_NAMESPACE, "purchase|e-20|wf-1|launch"))
    assert launch["commandId"] == command_id("purchase", "e-20", "wf-1", "launch")
    assert launch["params"] == {"sku": "A", "n": 2}
    dead = orjson.loads(outputs[5].value)
    assert dead["payloadEncoding"] == "base64" and dead["reason"] == "invalid_utf8"
    assert dead["eventId"] == "eg.ingest/2/24"
    assert outputs[5].key == b"c9"


def test_dead_letter_truncates_large_payloads_and_keeps_their_size(registry: Registry) -> None:
    big = b'{"eventTypeKey": "purchase", "pad": "' + "é".encode() * 40_000 + b'"}'
    decisions = decide_batch(
        [decode(_record(30, big), max_bytes=65536)], registry, TypeValidators()
    )
    (out,) = build_outputs(decisions, frozenset(), NOW)
    body = orjson.loads(out.value)
    assert body["reason"] == "too_large" and body["truncated"] is True
    assert body["payloadSize"] == len(big)
    assert body["payloadEncoding"] == "utf-8"
    assert len(body["payload"].encode()) <= 64 * 1024
    assert not list(_schema("rejected.schema.json").iter_errors(body))


_TEXT = st.text(st.characters(exclude_categories=("Cs",)))  # JSON text has no lone surrogate


@given(_TEXT, _TEXT, _TEXT, st.sampled_from(["launch", "stop"]))
def test_command_id_is_uuid5(type_key: str, event_id: str, workflow_id: str, kind: str) -> None:
    name = f"{type_key}|{event_id}|{workflow_id}|{kind}"
    expected = str(uuid.uuid5(COMMAND_NAMESPACE, name))
    assert command_id(type_key, event_id, workflow_id, kind) == expected
