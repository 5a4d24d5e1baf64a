"""Scopes (SPEC §10) on every route, against the real registry: read for GETs, admin for
event-type writes, engine for workflow and segment writes (and their reads), admin for
everything; 401 without a valid token, 403 outside the scope; checked before the body."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from test_api_support import (
    ADMIN,
    ENGINE,
    PRODUCER,
    READ,
    Api,
    ServicesLike,
    api_settings,
    api_stack,
    error_of,
)

KEY = "auth-type"
SEG_KEY = "auth-seg-type"


@pytest.fixture(scope="module")
async def api(services: ServicesLike) -> AsyncIterator[Api]:
    async with api_stack(api_settings(services.kafka_bootstrap, services.redis_url)) as stack:
        for key, seg in ((KEY, False), (SEG_KEY, True)):
            r = await stack.call(
                "POST", "/event-types", json={"key": key, "name": key, "segmentation": seg}
            )
            assert r.status_code == 201
        yield stack


# (method, path, body, scope that may call it besides admin); one row per route of the
# app: test_every_route_is_in_the_table fails when a route is added without a row here.
ROUTES: list[tuple[str, str, Any, set[str]]] = [
    ("GET", "/event-types", None, {"read"}),
    ("POST", "/event-types", {"key": "auth-new", "name": "n"}, set()),
    ("GET", f"/event-types/{KEY}", None, {"read"}),
    ("PATCH", f"/event-types/{KEY}", {"name": "renamed"}, set()),
    ("DELETE", "/event-types/auth-not-there", None, set()),
    ("GET", f"/event-types/{KEY}/validation", None, {"read"}),
    ("PUT", f"/event-types/{KEY}/validation", {"enabled": False}, set()),
    ("GET", f"/event-types/{KEY}/structure", None, {"read"}),
    ("GET", f"/event-types/{KEY}/dependencies", None, {"read"}),
    ("GET", f"/event-types/{KEY}/history", None, {"read"}),
    ("GET", "/history", None, {"read"}),
    ("GET", "/workflows", None, {"read", "engine"}),
    ("GET", "/workflows/auth-w", None, {"read", "engine"}),
    ("PUT", "/workflows/auth-w", {"name": "w", "status": "active"}, {"engine"}),
    ("DELETE", "/workflows/auth-gone", None, {"engine"}),
    ("GET", "/segments", None, {"read", "engine"}),
    ("GET", "/segments/auth-s", None, {"read", "engine"}),
    ("PUT", "/segments/auth-s", {"name": "s", "eventTypeKeys": [SEG_KEY]}, {"engine"}),
    ("DELETE", "/segments/auth-gone", None, {"engine"}),
    ("POST", "/events", {"events": [{"eventTypeKey": KEY, "keyValue": "c-1"}]}, {"producer"}),
]
TOKENS = {"read": READ, "engine": ENGINE, "producer": PRODUCER, "admin": ADMIN}


def _id(route: tuple[str, str, Any, set[str]]) -> str:
    return f"{route[0]} {route[1]}"


@pytest.mark.parametrize("route", ROUTES, ids=_id)
async def test_scopes_matrix(api: Api, route: tuple[str, str, Any, set[str]]) -> None:
    method, path, body, allowed = route
    for scope, token in TOKENS.items():
        r = await api.call(method, path, token=token, json=body)
        if scope == "admin" or scope in allowed:
            assert r.status_code not in (401, 403), (scope, r.status_code, r.text)
            assert r.status_code < 500, (scope, r.text)
        else:
            assert r.status_code == 403, (scope, r.status_code, r.text)
            error = error_of(r)
            assert error["code"] == "forbidden" and "scope" in error["message"]


@pytest.mark.parametrize("route", ROUTES, ids=_id)
async def test_no_or_bad_token_is_401(api: Api, route: tuple[str, str, Any, set[str]]) -> None:
    method, path, body, _ = route
    cases: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {ADMIN}"},
        {"Authorization": ADMIN},
        {"Authorization": f"Bearer {ADMIN}x"},
        {"Authorization": f"Bearer {ADMIN[:-1]}"},
    ]
    for headers in cases:
        r = await api.call(method, path, token=None, json=body, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        assert error_of(r)["code"] == "unauthorized"


async def test_auth_precedes_body_parsing(api: Api) -> None:
    broken = b'{"key": '
    headers = {"Content-Type": "application/json"}
    r = await api.call("POST", "/event-types", token=None, content=broken, headers=headers)
    assert r.status_code == 401
    r = await api.call("POST", "/event-types", token=READ, content=broken, headers=headers)
    assert r.status_code == 403
    r = await api.call("POST", "/event-types", token=ADMIN, content=broken, headers=headers)
    assert r.status_code == 400 and error_of(r)["code"] == "invalid_json"


async def test_ops_endpoints_need_no_token(api: Api) -> None:
    assert (await api.client.get("/healthz")).status_code == 200
    assert (await api.client.get("/metrics")).status_code == 200
    assert (await api.client.get("/openapi.json")).status_code == 200


def _api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path template) of every APIRoute, inside included routers too (FastAPI
    keeps those as lazy wrappers around the original router and its prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            for method in route.methods or ():
                yield method, prefix + route.path
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _api_routes(inner.routes, prefix + getattr(context, "prefix", ""))


def _template(path: str) -> str:
    """The route template a concrete path of ROUTES is served by."""
    path = re.sub(r"^/event-types/[^/]+", "/event-types/{key}", path)
    return re.sub(r"^/(workflows|segments)/[^/]+$", r"/\1/{id}", path)


def test_every_route_is_in_the_table(api: Api) -> None:
    """Every route of the app, walked and as /openapi.json lists it, has a row in ROUTES,
    so the matrices above run on it: a route added without a scope check fails here or
    there."""
    app = api.app
    assert isinstance(app, FastAPI)
    walked = {(m, p) for m, p in _api_routes(app.routes) if p.startswith("/api/")}
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    table = {(method, "/api/v1" + _template(path)) for method, path, _, _ in ROUTES}
    assert len(walked) >= len(ROUTES) - 1  # the walk found the routes at all
    assert walked | documented == table, {
        "missing from ROUTES": sorted((walked | documented) - table),
        "not served": sorted(table - (walked | documented)),
    }
