"""``/api/v1/event-types``: list and read event types (SPEC §10)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from eventgate.api.auth import Scope, require
from eventgate.api.problems import ApiError
from eventgate.api.schemas import EventTypeListItem, EventTypeOut, EventTypePage
from eventgate.registry.model import activity_window_ms
from eventgate.registry.service import Registry
from eventgate.registry.state import DependencyFilter, StatusFilter
from eventgate.settings import Settings

router = APIRouter(tags=["event types"])
Reader = Depends(require(Scope.READ))


def _now_ms() -> int:
    return int(time.time() * 1000)


@router.get("/event-types", dependencies=[Reader], response_model=EventTypePage)
async def list_event_types(
    request: Request,
    status: StatusFilter = StatusFilter.ALL,
    dependency: DependencyFilter = DependencyFilter.ALL,
    q: Annotated[str | None, Query(max_length=200, description="search name or key")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    sort: Annotated[str, Query(max_length=40, description="a field; '-' for descending")] = "key",
) -> EventTypePage:
    registry: Registry = request.app.state.registry
    settings: Settings = request.app.state.settings
    now, window = _now_ms(), activity_window_ms(settings.activity_window_days)
    try:
        page = registry.state.list_types(
            now_ms=now,
            activity_window_ms=window,
            status=status,
            dependency=dependency,
            q=q,
            sort=sort,
            limit=limit,
            offset=offset,
        )
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from exc
    items = [
        EventTypeListItem.row(t, t.status(now, window), registry.state.dependency_counts(t.key))
        for t in page.items
    ]
    return EventTypePage(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/event-types/{key}", dependencies=[Reader], response_model=EventTypeOut)
async def get_event_type(request: Request, key: str) -> EventTypeOut:
    registry: Registry = request.app.state.registry
    settings: Settings = request.app.state.settings
    found = registry.state.get(key)
    if found is None:
        raise ApiError(404, "not_found", f"no event type with key '{key}'")
    window = activity_window_ms(settings.activity_window_days)
    return EventTypeOut.of(found, found.status(_now_ms(), window))
