"""Event history (SPEC §9): ``GET /api/v1/history`` across types and
``GET /api/v1/event-types/{key}/history``, newest first, ``{items, nextCursor}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from eventgate.api.auth import ScopedRoute
from eventgate.api.problems import ApiError, error_responses
from eventgate.api.routes.common import Reader
from eventgate.api.schemas import ApiModel, iso_ms
from eventgate.counters.batch import Outcome
from eventgate.counters.history import BadCursor
from eventgate.counters.store import CounterStore
from eventgate.dlq import parse_time

router = APIRouter(tags=["history"], route_class=ScopedRoute)
ERRORS = error_responses(400, 401, 403, 404, 422, 503)


class HistoryEntry(ApiModel):
    event_type_key: str
    event_id: str
    contact: str | None
    outcome: Outcome
    reason: str | None
    launched_workflows: list[str]
    time: str | None
    partition: int
    position: int


class HistoryPage(ApiModel):
    items: list[HistoryEntry]
    next_cursor: str | None


def _time(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", f"{name}: {exc}") from exc


async def _page(
    request: Request,
    type_key: str | None,
    contact: str | None,
    outcome: Outcome | None,
    since: str | None,
    until: str | None,
    limit: int,
    cursor: str | None,
) -> HistoryPage:
    store: CounterStore = request.app.state.counters
    try:
        found, next_cursor = await store.history(
            type_key,
            contact=contact,
            outcome=outcome,
            since_ms=_time(since, "since"),
            until_ms=_time(until, "until"),
            limit=limit,
            cursor=cursor,
        )
    except BadCursor as exc:
        raise ApiError(400, "bad_cursor", str(exc) or "the cursor is not valid") from exc
    items = []
    for item in found:
        shape: dict[str, Any] = item.to_json()
        shape.pop("timeMs")
        items.append(HistoryEntry(**shape, time=iso_ms(item.time_ms)))
    return HistoryPage(items=items, next_cursor=next_cursor)


Limit = Annotated[int, Query(ge=1, le=500)]
Text = Annotated[str | None, Query(max_length=300)]


@router.get("/history", dependencies=[Reader], response_model=HistoryPage, responses=ERRORS)
async def history(
    request: Request,
    type: Text = None,
    contact: Text = None,
    outcome: Outcome | None = None,
    since: Annotated[str | None, Query(description="RFC 3339, inclusive")] = None,
    until: Annotated[str | None, Query(description="RFC 3339, exclusive")] = None,
    limit: Limit = 50,
    cursor: Text = None,
) -> HistoryPage:
    """Recent events across types, newest first."""
    return await _page(request, type, contact, outcome, since, until, limit, cursor)


@router.get(
    "/event-types/{key}/history",
    dependencies=[Reader],
    response_model=HistoryPage,
    responses=ERRORS,
)
async def type_history(
    request: Request,
    key: str,
    contact: Text = None,
    outcome: Outcome | None = None,
    since: Annotated[str | None, Query(description="RFC 3339, inclusive")] = None,
    until: Annotated[str | None, Query(description="RFC 3339, exclusive")] = None,
    limit: Limit = 50,
    cursor: Text = None,
) -> HistoryPage:
    """One type's recent events, newest first."""
    if request.app.state.registry.state.get(key) is None:
        raise ApiError(404, "not_found", f"no event type with key '{key}'")
    return await _page(request, key, contact, outcome, since, until, limit, cursor)
