"""``POST /api/v1/events``: up to 500 events written to ingest (the HTTP path of the original
product's "generate event" API). Each item gets the structural checks of SPEC §2 at once;
valid items are written by an idempotent producer (``acks=all``) keyed by their contact,
and the answer is 202 with a status per item. Validation rules run downstream, like for
any ingest record: a rule violation shows on the dead-letter topic and in the history.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Request
from pydantic import Field

from eventgate.api.auth import ScopedRoute
from eventgate.api.problems import ApiError, error_responses
from eventgate.api.routes.common import Producer
from eventgate.api.schemas import ApiModel
from eventgate.ingest.decode import Event, RawRecord, decode
from eventgate.settings import Settings

router = APIRouter(tags=["events"], route_class=ScopedRoute)
MAX_EVENTS = 500


class EventsBody(ApiModel):
    events: list[Any] = Field(
        min_length=1,
        max_length=MAX_EVENTS,
        description="events in the ingest shape of SPEC §2 (eventTypeKey, keyValue, params, "
        "eventId, occurredAt)",
    )


class ItemViolation(ApiModel):
    path: str
    message: str


class ItemStatus(ApiModel):
    index: int
    status: str = Field(description="queued (written to ingest) or rejected")
    event_id: str | None = Field(None, description="the explicit eventId, when given")
    reason: str | None = Field(None, description="the reject reason code (SPEC §2)")
    message: str | None = None
    violations: list[ItemViolation] = Field(default_factory=list)


class EventsAnswer(ApiModel):
    queued: int
    rejected: int
    items: list[ItemStatus]


@router.post(
    "/events",
    status_code=202,
    response_model=EventsAnswer,
    dependencies=[Producer],
    responses=error_responses(400, 401, 403, 413, 415, 422, 503),
    summary="Publish events to ingest",
)
async def post_events(request: Request, body: EventsBody) -> EventsAnswer:
    settings: Settings = request.app.state.settings
    producer: AIOKafkaProducer | None = request.app.state.producer
    if producer is None:
        raise ApiError(503, "unavailable", "the ingest producer is not started")
    topic, now = settings.topic("ingest"), int(time.time() * 1000)
    items: list[ItemStatus] = []
    futures = []
    for index, raw in enumerate(body.events):
        value = orjson.dumps(raw)
        checked = decode(RawRecord(topic, 0, 0, now, None, value), settings.max_record_bytes)
        if isinstance(checked, Event):
            futures.append(await producer.send(topic, value, key=checked.key_value.encode()))
            explicit = checked.event_id if checked.explicit_id else None
            items.append(ItemStatus(index=index, status="queued", event_id=explicit))
        else:
            violations = [ItemViolation(path=v.path, message=v.message) for v in checked.violations]
            items.append(
                ItemStatus(
                    index=index,
                    status="rejected",
                    reason=checked.reason.value,
                    message=checked.message,
                    violations=violations,
                )
            )
    for future in futures:
        await future  # acknowledged by all in-sync replicas before we answer
    queued = sum(1 for i in items if i.status == "queued")
    return EventsAnswer(queued=queued, rejected=len(items) - queued, items=items)
