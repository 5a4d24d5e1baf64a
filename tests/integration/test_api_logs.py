"""No contact data in logs by default (SPEC §9, §12): events carrying contact identifiers
go in through POST /events and through the processor (accepted, rejected by validation,
contact taken from params); every log line of every logger, at DEBUG, is captured as the
JSON the processes write. No identifier shows unless ``log_contacts`` is on, and then it
does (so the capture would have seen a leak)."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest
from streams import pipeline, read_committed
from test_api_support import api_stack

from eventgate.logs import setup_logging
from eventgate.settings import Settings

CONTACTS = [f"ann.{i}@example.com" for i in range(5)]
EVENTS = [
    {"eventTypeKey": "signup", "keyValue": CONTACTS[0], "params": {"plan": "pro"}},
    {"eventTypeKey": "signup", "keyValue": CONTACTS[1], "params": {"email": CONTACTS[2]}},
    {"eventTypeKey": "signup", "params": {"email": CONTACTS[3], "plan": 7}},
    {"eventTypeKey": "signup", "keyValue": CONTACTS[4], "params": {"plan": "gold", "x": 1}},
]
RULES = {
    "type": "object",
    "required": ["plan"],
    "properties": {"plan": {"enum": ["free", "pro"]}, "email": {"type": "string"}},
    "additionalProperties": False,
}


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """What a process's stderr receives with the logging of ``eventgate`` processes
    (``setup_logging``) at its most verbose, ``EVENTGATE_LOG_LEVEL=DEBUG``."""
    sink = io.StringIO()
    root, kafka = logging.getLogger(), logging.getLogger("aiokafka")
    saved = (list(root.handlers), root.level, kafka.level)
    monkeypatch.setattr(sys, "stderr", sink)
    setup_logging(Settings(log_level="DEBUG"), "test")
    monkeypatch.undo()
    root.handlers.extend(h for h in saved[0] if h not in root.handlers)  # keep pytest's
    yield sink
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    kafka.setLevel(saved[2])


@pytest.mark.parametrize("log_contacts", [False, True], ids=["default", "log_contacts"])
async def test_contact_identifiers_stay_out_of_logs_unless_allowed(
    settings: Settings, captured: io.StringIO, log_contacts: bool
) -> None:
    settings = settings.model_copy(
        update={"log_contacts": log_contacts, "ingest_partitions": 1, "api_rate_per_s": 0}
    )
    admin = settings.admin_tokens[0]
    async with pipeline(settings), api_stack(settings) as api:
        validation = {"enabled": True, "rules": RULES}
        body = {"key": "signup", "name": "Signup", "validation": validation}
        assert (await api.call("POST", "/event-types", token=admin, json=body)).status_code == 201
        r = await api.call("POST", "/events", token=admin, json={"events": EVENTS})
        assert r.status_code == 202 and r.json()["queued"] == len(EVENTS)
        rejected = await read_committed(settings, "rejected", expect=3)
        assert len(rejected) == 3
        history = await api.call("GET", "/history", token=admin)
        assert history.status_code == 200
    lines = captured.getvalue()
    assert "record rejected" in lines  # the lines that could carry contacts were written
    shown = [contact for contact in CONTACTS if contact in lines]
    if log_contacts:
        assert CONTACTS[1] in shown and CONTACTS[4] in shown
    else:
        assert shown == [], [line for line in lines.splitlines() if any(c in line for c in shown)]
