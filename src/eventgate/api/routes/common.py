"""Helpers shared by the route modules: the app's registry and settings, scopes, 404s."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response

from eventgate.api.auth import Require, Scope
from eventgate.api.etags import MAX_HEADER, TAGS_PATTERN, etag, none_match
from eventgate.api.problems import ApiError, error_responses
from eventgate.counters.model import Figures
from eventgate.counters.store import CounterStore
from eventgate.errors import DependencyUnavailable
from eventgate.registry.model import EventType, Status, activity_window_ms, is_valid_key
from eventgate.registry.service import Registry
from eventgate.settings import Settings

Reader = Depends(Require(Scope.READ))
"""GETs of event types: the read scope (or admin)."""
EngineReader = Depends(Require(Scope.READ, Scope.ENGINE))
"""GETs of workflows and segments: read or engine (engines read back what they wrote)."""
Admin = Depends(Require(Scope.ADMIN))
"""Event-type writes."""
Engine = Depends(Require(Scope.ENGINE))
"""Workflow and segment writes (admin may too)."""
Producer = Depends(Require(Scope.PRODUCER))
"""POST /events (admin may too)."""

ECHO_MAX = 120
_TAGS_SCHEMA = {"pattern": TAGS_PATTERN, "maxLength": MAX_HEADER}
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='the type\'s ETag ("3"), several, or *; on mismatch 412. Optional. '
        "One that breaks the pattern is 400 invalid_header.",
        json_schema_extra=_TAGS_SCHEMA,
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        description="answers 304 when current. One that breaks the pattern is 400 invalid_header.",
        json_schema_extra=_TAGS_SCHEMA,
    ),
]
ETAG_HEADER = {"ETag": {"description": "the type's version", "schema": {"type": "string"}}}
VERSIONED_READ: dict[int | str, dict[str, Any]] = {
    200: {"headers": ETAG_HEADER},
    304: {"description": "Not modified", "headers": ETAG_HEADER},
    **error_responses(400, 401, 403, 404),
}
"""``responses=`` of a GET that answers with the type's ETag and honours If-None-Match."""


def not_modified(
    response: Response, current: EventType, if_none_match: str | None
) -> Response | None:
    """A 304 when the client's copy (``If-None-Match``) is current; else None, with the
    type's ETag set on ``response``."""
    if none_match(if_none_match, current.version):
        return Response(status_code=304, headers={"ETag": etag(current.version)})
    response.headers["ETag"] = etag(current.version)
    return None


log = logging.getLogger(__name__)


async def figures_of(request: Request, keys: list[str]) -> dict[str, Figures] | None:
    """The 24 h figures of ``keys`` (one or two Redis round trips), or None when Redis is
    unreachable: the list still answers, with its figures null."""
    store: CounterStore = request.app.state.counters
    try:
        return await store.figures(keys)
    except DependencyUnavailable as exc:
        log.warning("counters unavailable for the list", extra={"error": str(exc)})
        return None


async def clear_counters(request: Request, key: str) -> None:
    """After a delete: the type's counters and history go too (SPEC §3)."""
    store: CounterStore = request.app.state.counters
    try:
        await store.clear_type(key)
    except DependencyUnavailable as exc:  # they expire within 25 h anyway
        log.warning("could not clear a deleted type's counters", extra={"error": str(exc)})


def now_ms() -> int:
    return int(time.time() * 1000)


def registry_of(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def compile_slots(request: Request) -> asyncio.Semaphore:
    slots: asyncio.Semaphore = request.app.state.compile_slots
    return slots


def echo(text: str) -> str:
    """``text`` for an error message, cut so a huge path parameter is not echoed back."""
    return text if len(text) <= ECHO_MAX else text[:ECHO_MAX] + "…"


def status_of(request: Request, t: EventType) -> Status:
    window = activity_window_ms(settings_of(request).activity_window_days)
    return t.status(now_ms(), window)


def find_type(request: Request, key: str) -> EventType:
    """The type from this process's registry view, or 404."""
    found = registry_of(request).state.get(key) if is_valid_key(key) else None
    if found is None:
        raise ApiError(
            404, "not_found", f"no event type with key {echo(key)!r}", {"key": echo(key)}
        )
    return found


def location(path: str) -> dict[str, str]:
    return {"Location": f"/api/v1{path}"}
