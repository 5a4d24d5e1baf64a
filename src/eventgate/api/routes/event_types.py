"""``/api/v1/event-types``: list, create, read, change and delete event types (SPEC §3,
§10). Validation, structure and dependencies of one type: :mod:`.type_details`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from eventgate.api.auth import ScopedRoute
from eventgate.api.bodies import CreateTypeIn, TypePatchIn, VolumeFloorIn
from eventgate.api.etags import etag, if_match_version
from eventgate.api.problems import ApiError, error_responses
from eventgate.api.routes.common import (
    ETAG_HEADER,
    VERSIONED_READ,
    Admin,
    IfMatch,
    IfNoneMatch,
    Reader,
    clear_counters,
    compile_slots,
    figures_of,
    find_type,
    location,
    not_modified,
    now_ms,
    registry_of,
    settings_of,
    status_of,
)
from eventgate.api.routes.type_details import dependency_items
from eventgate.api.schemas import EventTypeListItem, EventTypeOut, EventTypePage
from eventgate.api.writes import check_rules, send
from eventgate.errors import RegistryRefused
from eventgate.registry.model import activity_window_ms
from eventgate.registry.requests import (
    CreateType,
    DeleteType,
    TypePatch,
    UpdateType,
    ValidationBody,
    VolumeFloorBody,
)
from eventgate.registry.state import SORT_FIELDS, DependencyFilter, StatusFilter

router = APIRouter(tags=["event types"], route_class=ScopedRoute)
MAX_TYPES_FOR_FIGURE_SORT = 1_000_000

FIGURE_SORTS = ("volume24h", "launched24h", "errors24h", "rejected24h")
SORT_PATTERN = "^-?(" + "|".join([*SORT_FIELDS, "status", *FIGURE_SORTS]) + ")$"


def _floor(body: VolumeFloorIn | None) -> VolumeFloorBody | None:
    return None if body is None else VolumeFloorBody(events=body.events, hours=body.hours)


def type_answer(request: Request, response: Response, key: str) -> EventTypeOut:
    """The type as this process sees it now (after a write: including it), with its ETag."""
    t = find_type(request, key)
    response.headers["ETag"] = etag(t.version)
    return EventTypeOut.of(t, status_of(request, t))


@router.get(
    "/event-types",
    dependencies=[Reader],
    response_model=EventTypePage,
    responses=error_responses(401, 403, 422),
    summary="List event types",
)
async def list_event_types(
    request: Request,
    status: Annotated[StatusFilter, Query(description="activity status")] = StatusFilter.ALL,
    dependency: Annotated[
        DependencyFilter, Query(description="launch, stop, segmentation or none")
    ] = DependencyFilter.ALL,
    q: Annotated[
        str | None, Query(max_length=200, description="search name or key, case-insensitive")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    sort: Annotated[
        str,
        Query(
            pattern=SORT_PATTERN,
            description="a field, '-' for descending; ties by key: "
            + ", ".join([*SORT_FIELDS, "status", *FIGURE_SORTS]),
        ),
    ] = "key",
) -> EventTypePage:
    registry, settings = registry_of(request), settings_of(request)
    now, window = now_ms(), activity_window_ms(settings.activity_window_days)
    by_figure = sort.lstrip("-") in FIGURE_SORTS
    try:
        page = registry.state.list_types(
            now_ms=now,
            activity_window_ms=window,
            status=status,
            dependency=dependency,
            q=q,
            sort="key" if by_figure else sort,
            limit=MAX_TYPES_FOR_FIGURE_SORT if by_figure else limit,
            offset=0 if by_figure else offset,
        )
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from exc
    chosen = page.items
    if by_figure:
        # Sorting by a 24 h figure reads the figures of every matching type: one or two
        # Redis round trips however many (docs/counters.md), then the page is cut here.
        every = await figures_of(request, [t.key for t in chosen]) or {}
        field = sort.lstrip("-")
        keyed = sorted(chosen, key=lambda t: t.key)
        keyed.sort(
            key=lambda t: getattr(every.get(t.key), field, 0) or 0, reverse=sort.startswith("-")
        )
        chosen = keyed[offset : offset + limit]
    figures = await figures_of(request, [t.key for t in chosen])
    items = [
        EventTypeListItem.row(
            t,
            t.status(now, window),
            registry.state.dependency_counts(t.key),
            None if figures is None else figures.get(t.key),
        )
        for t in chosen
    ]
    return EventTypePage(items=items, total=page.total, limit=limit, offset=offset)


@router.post(
    "/event-types",
    dependencies=[Admin],
    status_code=201,
    response_model=EventTypeOut,
    responses={
        201: {"headers": {**ETAG_HEADER, "Location": {"schema": {"type": "string"}}}},
        **error_responses(400, 401, 403, 409, 413, 415, 422, 429, 503),
    },
    summary="Create an event type",
)
async def create_event_type(
    request: Request, response: Response, body: CreateTypeIn
) -> EventTypeOut:
    await check_rules(compile_slots(request), body.validation.enabled, body.validation.rules)
    await send(
        registry_of(request),
        CreateType(
            key=body.key,
            name=body.name,
            category=body.category,
            segmentation=body.segmentation,
            validation=ValidationBody(enabled=body.validation.enabled, rules=body.validation.rules),
            volume_floor=_floor(body.volume_floor),
        ),
    )
    response.headers.update(location(f"/event-types/{body.key}"))
    return type_answer(request, response, body.key)


@router.get(
    "/event-types/{key}",
    dependencies=[Reader],
    response_model=EventTypeOut,
    responses=VERSIONED_READ,
    summary="Read an event type",
)
async def get_event_type(
    request: Request, response: Response, key: str, if_none_match: IfNoneMatch = None
) -> Any:
    t = find_type(request, key)
    return not_modified(response, t, if_none_match) or EventTypeOut.of(t, status_of(request, t))


@router.patch(
    "/event-types/{key}",
    dependencies=[Admin],
    response_model=EventTypeOut,
    responses={
        200: {"headers": ETAG_HEADER},
        **error_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 503),
    },
    summary="Change name, category, segmentation or volume floor",
)
async def patch_event_type(
    request: Request,
    response: Response,
    key: str,
    body: TypePatchIn,
    if_match: IfMatch = None,
) -> EventTypeOut:
    current = find_type(request, key)
    expected = if_match_version(if_match, current.version, key)
    present = body.model_fields_set
    patch_fields: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("name", "category", "segmentation")
        if name in present
    }
    if "volume_floor" in present:
        patch_fields["volume_floor"] = _floor(body.volume_floor)
    await send(
        registry_of(request),
        UpdateType(key=key, patch=TypePatch(**patch_fields), if_match_version=expected),
    )
    return type_answer(request, response, key)


@router.delete(
    "/event-types/{key}",
    dependencies=[Admin],
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 401, 403, 404, 409, 412, 503),
    summary="Delete an event type (refused while workflows or segments depend on it)",
    description="The next event with this key registers it again, with validation off.",
)
async def delete_event_type(request: Request, key: str, if_match: IfMatch = None) -> Response:
    current = find_type(request, key)
    expected = if_match_version(if_match, current.version, key)
    try:
        await send(registry_of(request), DeleteType(key=key, if_match_version=expected))
    except RegistryRefused as refused:
        if refused.code != "conflict":
            raise
        items = dependency_items(registry_of(request), key)
        raise ApiError(
            409,
            "conflict",
            refused.message,
            {
                "key": key,
                "dependencies": [item.model_dump(mode="json", by_alias=True) for item in items],
                **(refused.details or {}),
            },
        ) from None
    await clear_counters(request, key)
    return Response(status_code=204)
