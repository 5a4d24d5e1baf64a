"""Event history (SPEC §9): ``GET /api/v1/history`` across types and
``GET /api/v1/event-types/{key}/history``, newest first, ``{items, nextCursor}``."""

from __future__ import annotations

import calendar
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from eventgate.api.auth import ScopedRoute
from eventgate.api.problems import ApiError, error_responses
from eventgate.api.routes.common import Reader
from eventgate.api.schemas import ApiModel, iso_ms
from eventgate.counters.batch import Outcome
from eventgate.counters.history import CURSOR_PATTERN, BadCursor
from eventgate.counters.store import CounterStore
from eventgate.ingest.rfc3339 import MAX_MS, MIN_MS, parse_rfc3339_ms

router = APIRouter(tags=["history"], route_class=ScopedRoute)
ERRORS = error_responses(404, 503)


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


_YEAR = re.compile(r"[0-9]{4}")


def filter_time(text: str) -> int | None:
    """Epoch milliseconds of an RFC 3339 ``date-time`` (the parameters' documented format),
    or None. Times the registry cannot write (before 0001 or after 9999 once in UTC, as
    ``0001-01-01T00:00:00+01:00``) are still times: as filters they are clamped."""
    if " " in text:  # the ingest parser's "for readability" spelling is not date-time
        return None
    ms = parse_rfc3339_ms(text)
    if ms is not None or not _YEAR.match(text):
        return ms
    year = int(text[:4])
    if year not in (0, 1, 9999):
        return None
    # The same date and time in a year of the same kind (leap or not) in range: if that
    # is a time, this one is, just out of range.
    stand_in = "2000" if calendar.isleap(year) else "2001"
    if parse_rfc3339_ms(stand_in + text[4:]) is None:
        return None
    return MIN_MS if year <= 1 else MAX_MS


def _time(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    ms = filter_time(value)
    if ms is None:
        raise ApiError(
            422,
            "invalid_request",
            f"{name}: not an RFC 3339 date-time: {value[:64]!r}",
            [{"path": name, "message": "not an RFC 3339 date-time"}],
        )
    return ms


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
    except BadCursor as exc:  # the parameter's pattern let it through: cannot happen
        raise ApiError(422, "invalid_request", str(exc) or "the cursor is not valid") from exc
    items = []
    for item in found:
        shape: dict[str, Any] = item.to_json()
        shape.pop("timeMs")
        items.append(HistoryEntry(**shape, time=iso_ms(item.time_ms)))
    return HistoryPage(items=items, next_cursor=next_cursor)


Limit = Annotated[int, Query(ge=1, le=500)]
Text = Annotated[str | None, Query(max_length=300)]
Cursor = Annotated[
    str | None,
    Query(pattern=CURSOR_PATTERN, description="nextCursor of the previous page"),
]
Since = Annotated[
    str | None,
    Query(description="RFC 3339, inclusive", json_schema_extra={"format": "date-time"}),
]
Until = Annotated[
    str | None,
    Query(description="RFC 3339, inclusive", json_schema_extra={"format": "date-time"}),
]


@router.get("/history", dependencies=[Reader], response_model=HistoryPage, responses=ERRORS)
async def history(
    request: Request,
    type: Text = None,
    contact: Text = None,
    outcome: Outcome | None = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
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
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> HistoryPage:
    """One type's recent events, newest first."""
    if request.app.state.registry.state.get(key) is None:
        raise ApiError(404, "not_found", f"no event type with key '{key}'")
    return await _page(request, key, contact, outcome, since, until, limit, cursor)
