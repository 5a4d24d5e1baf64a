"""``/api/v1/workflows`` and ``/api/v1/segments``: what depends on event types (SPEC §7).

Engines register them idempotently: ``PUT`` by id replaces the whole workflow or segment
(201 when it creates it, 200 otherwise, the same answer when repeated), ``DELETE``
removes it (404 when unknown). Writes need the ``engine`` scope, reads ``read`` or
``engine`` (admin may do everything).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from eventgate.api.auth import ScopedRoute
from eventgate.api.bodies import ID_PATTERN, SegmentConditionIn, SegmentIn, WorkflowIn
from eventgate.api.problems import ApiError, error_responses
from eventgate.api.routes.common import Engine, EngineReader, echo, location, registry_of
from eventgate.api.schemas import SegmentOut, SegmentPage, WorkflowOut, WorkflowPage
from eventgate.api.writes import send
from eventgate.registry.model import WorkflowStatus
from eventgate.registry.requests import (
    ContactFieldCondition,
    DeleteSegment,
    DeleteWorkflow,
    PutSegment,
    PutWorkflow,
    SegmentBody,
    SegmentCondition,
    WorkflowBody,
)

router = APIRouter(route_class=ScopedRoute)

Ident = Annotated[str, Path(pattern=ID_PATTERN, description="1-200 of A-Z a-z 0-9 _ . : -")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
KeyFilter = Annotated[
    str | None,
    Query(alias="eventTypeKey", max_length=100, description="only those using this type"),
]
_CREATED = {"headers": {"Location": {"schema": {"type": "string"}}}}
_WRITE_ERRORS = error_responses(400, 401, 403, 409, 413, 415, 422, 503)


def _same_id(path_id: str, body_id: str | None) -> None:
    if body_id is not None and body_id != path_id:
        raise ApiError(
            422,
            "id_mismatch",
            f"id: the body's id {body_id!r} differs from the path's {path_id!r}",
            [{"path": "id", "message": "must equal the id in the path"}],
        )


def _not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, "not_found", f"no {what} with id {echo(ident)!r}", {"id": echo(ident)})


# -- workflows ------------------------------------------------------------------------------


@router.get(
    "/workflows",
    tags=["workflows"],
    dependencies=[EngineReader],
    response_model=WorkflowPage,
    responses=error_responses(401, 403, 422),
    summary="List workflows, by id",
)
async def list_workflows(
    request: Request,
    event_type_key: KeyFilter = None,
    status: WorkflowStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> WorkflowPage:
    state = registry_of(request).state
    if event_type_key is None:
        ids = sorted(state.workflows)
    else:
        refs = state.launch_referrers(event_type_key) | state.stop_referrers(event_type_key)
        ids = sorted(refs)
    workflows = [state.workflows[i] for i in ids]
    if status is not None:
        workflows = [w for w in workflows if w.status is status]
    page = workflows[offset : offset + limit]
    return WorkflowPage(
        items=[WorkflowOut.of(w) for w in page], total=len(workflows), limit=limit, offset=offset
    )


@router.get(
    "/workflows/{id}",
    tags=["workflows"],
    dependencies=[EngineReader],
    response_model=WorkflowOut,
    responses=error_responses(401, 403, 404, 422),
    summary="Read a workflow",
)
async def get_workflow(request: Request, id: Ident) -> WorkflowOut:
    found = registry_of(request).state.workflow(id)
    if found is None:
        raise _not_found("workflow", id)
    return WorkflowOut.of(found)


@router.put(
    "/workflows/{id}",
    tags=["workflows"],
    dependencies=[Engine],
    response_model=WorkflowOut,
    responses={201: _CREATED, **_WRITE_ERRORS},
    summary="Create or replace a workflow (idempotent)",
    description="A launchCondition makes the workflow launch on the system type "
    "segment.{segmentId} / contactField.{contactFieldId}, created (or adopted) here. "
    "Keys not yet registered are allowed.",
)
async def put_workflow(
    request: Request, response: Response, id: Ident, body: WorkflowIn
) -> WorkflowOut:
    _same_id(id, body.id)
    condition: SegmentCondition | ContactFieldCondition | None = None
    if isinstance(body.launch_condition, SegmentConditionIn):
        condition = SegmentCondition(
            segment_id=body.launch_condition.segment_id,
            segment_name=body.launch_condition.segment_name,
        )
    elif body.launch_condition is not None:
        condition = ContactFieldCondition(
            contact_field_id=body.launch_condition.contact_field_id,
            contact_field_name=body.launch_condition.contact_field_name,
        )
    reply = await send(
        registry_of(request),
        PutWorkflow(
            workflow=WorkflowBody(
                id=id,
                name=body.name,
                status=body.status,
                launch_on=tuple(body.launch_on),
                stop_on=tuple(body.stop_on),
                launch_condition=condition,
            )
        ),
    )
    if reply.result.get("created"):
        response.status_code = 201
        response.headers.update(location(f"/workflows/{id}"))
    found = registry_of(request).state.workflow(id)
    if found is None:  # deleted again between the write and this answer
        raise _not_found("workflow", id)
    return WorkflowOut.of(found)


@router.delete(
    "/workflows/{id}",
    tags=["workflows"],
    dependencies=[Engine],
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Delete a workflow (its system type stays)",
)
async def delete_workflow(request: Request, id: Ident) -> Response:
    await send(registry_of(request), DeleteWorkflow(id=id))
    return Response(status_code=204)


# -- segments -------------------------------------------------------------------------------


@router.get(
    "/segments",
    tags=["segments"],
    dependencies=[EngineReader],
    response_model=SegmentPage,
    responses=error_responses(401, 403, 422),
    summary="List segments, by id",
)
async def list_segments(
    request: Request,
    event_type_key: KeyFilter = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SegmentPage:
    state = registry_of(request).state
    if event_type_key is None:
        ids = sorted(state.segments)
    else:
        ids = sorted(state.segment_referrers(event_type_key))
    segments = [state.segments[i] for i in ids]
    page = segments[offset : offset + limit]
    return SegmentPage(
        items=[SegmentOut.of(s) for s in page], total=len(segments), limit=limit, offset=offset
    )


@router.get(
    "/segments/{id}",
    tags=["segments"],
    dependencies=[EngineReader],
    response_model=SegmentOut,
    responses=error_responses(401, 403, 404, 422),
    summary="Read a segment",
)
async def get_segment(request: Request, id: Ident) -> SegmentOut:
    found = registry_of(request).state.segment(id)
    if found is None:
        raise _not_found("segment", id)
    return SegmentOut.of(found)


@router.put(
    "/segments/{id}",
    tags=["segments"],
    dependencies=[Engine],
    response_model=SegmentOut,
    responses={201: _CREATED, **_WRITE_ERRORS},
    summary="Create or replace a segment (idempotent)",
    description="Every key must name an event type with segmentation on; otherwise 409 "
    "naming them (details.missing, details.segmentationOff).",
)
async def put_segment(
    request: Request, response: Response, id: Ident, body: SegmentIn
) -> SegmentOut:
    _same_id(id, body.id)
    reply = await send(
        registry_of(request),
        PutSegment(
            segment=SegmentBody(id=id, name=body.name, event_type_keys=tuple(body.event_type_keys))
        ),
    )
    if reply.result.get("created"):
        response.status_code = 201
        response.headers.update(location(f"/segments/{id}"))
    found = registry_of(request).state.segment(id)
    if found is None:
        raise _not_found("segment", id)
    return SegmentOut.of(found)


@router.delete(
    "/segments/{id}",
    tags=["segments"],
    dependencies=[Engine],
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Delete a segment",
)
async def delete_segment(request: Request, id: Ident) -> Response:
    await send(registry_of(request), DeleteSegment(id=id))
    return Response(status_code=204)
