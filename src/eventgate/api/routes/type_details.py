"""``/api/v1/event-types/{key}/…``: validation rules, parameter structure, dependencies."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from eventgate.api.auth import ScopedRoute
from eventgate.api.bodies import ValidationIn
from eventgate.api.etags import etag, if_match_version
from eventgate.api.problems import ApiError, error_responses
from eventgate.api.routes.common import (
    ETAG_HEADER,
    VERSIONED_READ,
    Admin,
    IfMatch,
    IfNoneMatch,
    Reader,
    compile_slots,
    find_type,
    not_modified,
    registry_of,
)
from eventgate.api.schemas import (
    DependenciesOut,
    DependencyCountsOut,
    DependencyOut,
    StructureOut,
    StructurePath,
    ValidationOut,
)
from eventgate.api.writes import check_rules, send
from eventgate.registry import structure
from eventgate.registry.requests import SetValidation
from eventgate.registry.service import Registry

router = APIRouter(tags=["event types"], route_class=ScopedRoute)


def dependency_items(registry: Registry, key: str) -> list[DependencyOut]:
    """The workflows (launch, stop) and segments of type ``key``, each kind by id."""
    deps = registry.state.dependencies(key)
    items = [
        DependencyOut(id=w.id, name=w.name, kind=kind, status=w.status)
        for kind, workflows in (("launch", deps.launch), ("stop", deps.stop))
        for w in workflows
    ]
    items += [
        DependencyOut(id=s.id, name=s.name, kind="segment", status=None) for s in deps.segments
    ]
    return items


@router.get(
    "/event-types/{key}/validation",
    dependencies=[Reader],
    response_model=ValidationOut,
    responses=VERSIONED_READ,
    summary="Read a type's validation rules",
)
async def get_validation(
    request: Request, response: Response, key: str, if_none_match: IfNoneMatch = None
) -> Any:
    t = find_type(request, key)
    return not_modified(response, t, if_none_match) or ValidationOut(
        enabled=t.validation.enabled, rules=t.validation.rules
    )


@router.put(
    "/event-types/{key}/validation",
    dependencies=[Admin],
    response_model=ValidationOut,
    responses={
        200: {"headers": ETAG_HEADER},
        **error_responses(400, 401, 403, 404, 412, 413, 415, 422, 503),
    },
    summary="Set a type's validation: {enabled, rules}",
    description="Rules are compiled first; refused rules answer 422 naming the problem "
    "(SPEC §4: other $schema, ignored keywords, remote $ref, over 64 KiB or deeper than "
    "32, patterns RE2 cannot compile).",
)
async def put_validation(
    request: Request,
    response: Response,
    key: str,
    body: ValidationIn,
    if_match: IfMatch = None,
) -> ValidationOut:
    current = find_type(request, key)
    # The body first: rules that break their documented shape are a 422 whatever the
    # If-Match says (a 412 would tell a client its schema-invalid body was fine).
    await check_rules(compile_slots(request), body.enabled, body.rules)
    expected = if_match_version(if_match, current.version, key)
    await send(
        registry_of(request),
        SetValidation(key=key, enabled=body.enabled, rules=body.rules, if_match_version=expected),
    )
    t = find_type(request, key)
    response.headers["ETag"] = etag(t.version)
    return ValidationOut(enabled=t.validation.enabled, rules=t.validation.rules)


@router.get(
    "/event-types/{key}/structure",
    dependencies=[Reader],
    response_model=StructureOut,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(401, 403, 404)},
    summary="Preview a type's parameter structure (JSON and copyable paths)",
)
async def get_structure(request: Request, response: Response, key: str) -> StructureOut:
    t = find_type(request, key)
    try:
        merged = structure.structure_from_json(orjson.loads(t.structure_json))
    except ValueError as exc:  # the reader skips such records; a bug if it ever shows
        raise ApiError(
            500, "unreadable_structure", f"the structure of {key!r} cannot be read: {exc}"
        ) from None
    paths = [StructurePath(**p) for p in structure.preview_paths(merged)]
    response.headers["ETag"] = etag(t.version)
    return StructureOut(
        key=t.key,
        version=t.version,
        json=structure.preview_json(merged),
        paths=paths,
        path_count=merged.paths,
        max_paths=structure.MAX_PATHS,
        max_depth=structure.MAX_DEPTH,
    )


@router.get(
    "/event-types/{key}/dependencies",
    dependencies=[Reader],
    response_model=DependenciesOut,
    responses=error_responses(401, 403, 404),
    summary="The workflows and segments that depend on a type",
)
async def get_dependencies(request: Request, key: str) -> DependenciesOut:
    t = find_type(request, key)
    registry = registry_of(request)
    return DependenciesOut(
        key=t.key,
        items=dependency_items(registry, t.key),
        counts=DependencyCountsOut.of(registry.state.dependency_counts(t.key)),
    )
