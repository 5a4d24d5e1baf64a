"""The job every peer application does to an ingest record, written the plain way an
application developer would (stdlib, orjson, fastjsonschema only, so the Quix Streams
peer can run it from its own virtualenv):

decode with orjson; reject what is not an object, has no well-formed ``eventTypeKey``,
no contact (``keyValue`` or a fallback param), a bad ``eventId``, or params that break
the type's schema (fastjsonschema, compiled once per type at start); otherwise emit one
command per active launch (and stop) workflow of the type, shaped as eventgate's
(SPEC §6: ``commandId`` = UUIDv5, ``eventId``, ``keyValue``, ``params``, ``occurredAt``,
``emittedAt``; header ``eventgate-event-id``).
"""

from __future__ import annotations

import json
import re
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
FALLBACK = ("contactid", "externalcustomerid", "email", "phone", "pushtoken")
COMMAND_NAMESPACE = uuid.UUID("6f1c3b9e-9a53-4c8e-8f39-2d6a4f0e7b11")
EVENT_ID_HEADER = "eventgate-event-id"


@dataclass
class Outcome:
    event_type_key: str | None
    commands: list[dict[str, Any]]
    rejection: dict[str, Any] | None


def _iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


class Job:
    """Decode, validate and decide commands for one record; no I/O."""

    def __init__(self, spec: dict[str, Any]) -> None:
        types = spec["types"]
        self.validators = {
            key: fastjsonschema.compile(t["schema"]) for key, t in types.items() if t["schema"]
        }
        self.launch: dict[str, tuple[str, ...]] = {k: tuple(t["launch"]) for k, t in types.items()}
        self.stop: dict[str, tuple[str, ...]] = {k: tuple(t["stop"]) for k, t in types.items()}

    def handle(self, key: bytes | None, value: bytes | None, ts_ms: int, where: str) -> Outcome:
        try:
            doc = orjson.loads(value or b"")
        except orjson.JSONDecodeError:
            return self._reject("invalid_json", None, value, where)
        if not isinstance(doc, dict):
            return self._reject("not_object", None, value, where)
        type_key = doc.get("eventTypeKey")
        if not type_key:
            return self._reject("missing_key", None, value, where)
        if not isinstance(type_key, str) or not KEY_RE.match(type_key):
            return self._reject("invalid_key", None, value, where)
        params = doc.get("params") or {}
        if not isinstance(params, dict):
            return self._reject("invalid_params", type_key, value, where)
        contact = doc.get("keyValue")
        if contact is None:
            for name, found in params.items():
                if name.lower() in FALLBACK and isinstance(found, str | int):
                    contact = str(found)
                    break
        if not isinstance(contact, str) or not contact.strip() or len(contact) > 300:
            return self._reject("missing_contact", type_key, value, where)
        event_id = doc.get("eventId")
        if event_id is None:
            event_id = where
        elif not isinstance(event_id, str) or not KEY_RE.match(event_id) or len(event_id) > 128:
            return self._reject("invalid_event_id", type_key, value, where)
        validate = self.validators.get(type_key)
        if validate is not None:
            try:
                validate(params)
            except fastjsonschema.JsonSchemaException as exc:
                return self._reject("validation_failed", type_key, value, where, str(exc))
        launch = self.launch.get(type_key, ())
        stop = self.stop.get(type_key, ())
        if not (launch or stop):
            return Outcome(type_key, [], None)
        occurred = doc.get("occurredAt") or _iso(ts_ms)
        emitted = _iso(time.time() * 1000)
        commands = [
            {
                "schemaVersion": 1,
                "commandId": str(
                    uuid.uuid5(COMMAND_NAMESPACE, f"{type_key}|{event_id}|{workflow}|{kind}")
                ),
                "kind": kind,
                "workflowId": workflow,
                "eventTypeKey": type_key,
                "eventId": event_id,
                "keyValue": contact,
                "params": params,
                "occurredAt": occurred,
                "emittedAt": emitted,
            }
            for kind, workflows in (("launch", launch), ("stop", stop))
            for workflow in workflows
        ]
        return Outcome(type_key, commands, None)

    @staticmethod
    def _reject(
        reason: str, type_key: str | None, value: bytes | None, where: str, message: str = ""
    ) -> Outcome:
        payload = (value or b"").decode("utf-8", "replace")
        rejection = {
            "schemaVersion": 1,
            "reason": reason,
            "message": message,
            "eventTypeKey": type_key,
            "payload": payload,
            "source": where,
        }
        return Outcome(type_key, [], rejection)


def load_spec(path: str) -> dict[str, Any]:
    return dict(json.loads(Path(path).read_text()))


def max_rss_mib() -> float:
    """Peak resident set size of this process since its exec (``VmHWM``; unlike
    ``ru_maxrss``, it does not inherit the parent's peak across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def write_result(path: str, result: dict[str, Any]) -> None:
    result = {**result, "maxRssMiB": max_rss_mib()}
    Path(path).write_text(json.dumps(result))
    print(json.dumps(result), file=sys.stderr, flush=True)


def now_ms() -> float:
    return time.time() * 1000
