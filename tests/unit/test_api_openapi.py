"""``/openapi.json`` is OpenAPI 3.1, generated from the code that serves it, and documents
every route of SPEC §10 built so far with its parameters, request and response schemas,
its errors in the API's error shape, and the bearer scheme."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from jsonschema import Draft202012Validator

from eventgate.api.app import create_app
from eventgate.api.routes import dependents, event_types, type_details
from eventgate.registry.service import Registry
from eventgate.settings import Settings

EXPECTED = {
    ("GET", "/api/v1/event-types"): ("EventTypePage", None),
    ("POST", "/api/v1/event-types"): ("EventTypeOut", "CreateTypeIn"),
    ("GET", "/api/v1/event-types/{key}"): ("EventTypeOut", None),
    ("PATCH", "/api/v1/event-types/{key}"): ("EventTypeOut", "TypePatchIn"),
    ("DELETE", "/api/v1/event-types/{key}"): (None, None),
    ("GET", "/api/v1/event-types/{key}/validation"): ("ValidationOut", None),
    ("PUT", "/api/v1/event-types/{key}/validation"): ("ValidationOut", "ValidationIn"),
    ("GET", "/api/v1/event-types/{key}/structure"): ("StructureOut", None),
    ("GET", "/api/v1/event-types/{key}/dependencies"): ("DependenciesOut", None),
    ("GET", "/api/v1/workflows"): ("WorkflowPage", None),
    ("GET", "/api/v1/workflows/{id}"): ("WorkflowOut", None),
    ("PUT", "/api/v1/workflows/{id}"): ("WorkflowOut", "WorkflowIn"),
    ("DELETE", "/api/v1/workflows/{id}"): (None, None),
    ("GET", "/api/v1/segments"): ("SegmentPage", None),
    ("GET", "/api/v1/segments/{id}"): ("SegmentOut", None),
    ("PUT", "/api/v1/segments/{id}"): ("SegmentOut", "SegmentIn"),
    ("DELETE", "/api/v1/segments/{id}"): (None, None),
}


@pytest.fixture(scope="module")
def app_and_spec() -> tuple[Any, dict[str, Any]]:
    settings = Settings(admin_tokens=("t",))
    app = create_app(settings, Registry(settings, is_writer_candidate=False))
    return app, app.openapi()


def _ref(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[-1]


def test_it_is_openapi_3_1(app_and_spec: tuple[Any, dict[str, Any]]) -> None:
    _, spec = app_and_spec
    assert spec["openapi"].startswith("3.1.")
    assert spec["info"]["title"] == "eventgate"
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"],
    }


def test_every_route_is_documented_with_its_schemas(
    app_and_spec: tuple[Any, dict[str, Any]],
) -> None:
    _, spec = app_and_spec
    served = {
        (method, "/api/v1" + route.path)
        for router in (event_types.router, type_details.router, dependents.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert served == set(EXPECTED)
    documented = {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops}
    assert set(EXPECTED) <= documented
    for (method, path), (response, request) in EXPECTED.items():
        op = spec["paths"][path][method.lower()]
        assert op["security"] == [{"bearer": []}], (method, path)
        assert op["summary"]
        ok = next(code for code in op["responses"] if code.startswith("2"))
        if response is None:
            assert ok == "204" and "content" not in op["responses"][ok]
        else:
            schema = op["responses"][ok]["content"]["application/json"]["schema"]
            assert _ref(schema) == response, (method, path)
        if request is None:
            assert "requestBody" not in op
        else:
            body = op["requestBody"]["content"]["application/json"]["schema"]
            assert _ref(body) == request and op["requestBody"]["required"] is True
            assert spec["components"]["schemas"][request]["additionalProperties"] is False
        for code in ("401", "403", "422"):
            error = op["responses"][code]["content"]["application/json"]["schema"]
            assert _ref(error) == "ErrorOut", (method, path, code)
        for param in op.get("parameters", []):
            assert "schema" in param


def test_every_api_operation_has_a_success_schema_and_needs_a_token(
    app_and_spec: tuple[Any, dict[str, Any]],
) -> None:
    """Also the routes other modules add under /api/v1 (history, events)."""
    _, spec = app_and_spec
    for path, ops in spec["paths"].items():
        assert path.startswith("/api/v1/"), path
        for method, op in ops.items():
            assert op.get("security"), (method, path)
            ok = [code for code in op["responses"] if code.startswith("2")]
            assert ok, (method, path)
            if ok[0] != "204":
                assert "schema" in op["responses"][ok[0]]["content"]["application/json"]
            if "requestBody" in op:
                assert "schema" in op["requestBody"]["content"]["application/json"]


def test_no_fastapi_default_error_shape_is_advertised(
    app_and_spec: tuple[Any, dict[str, Any]],
) -> None:
    _, spec = app_and_spec
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["ErrorOut"]["required"] == ["error"]


def test_component_schemas_are_valid_json_schema(
    app_and_spec: tuple[Any, dict[str, Any]],
) -> None:
    _, spec = app_and_spec
    for name, schema in spec["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert name[0].isupper()


def test_bodies_are_camel_case(app_and_spec: tuple[Any, dict[str, Any]]) -> None:
    _, spec = app_and_spec
    schemas = spec["components"]["schemas"]
    assert set(schemas["CreateTypeIn"]["properties"]) == {
        "key",
        "name",
        "category",
        "segmentation",
        "validation",
        "volumeFloor",
    }
    assert "launchCondition" in schemas["WorkflowIn"]["properties"]
    assert "eventTypeKeys" in schemas["SegmentIn"]["properties"]
    assert "json" in schemas["StructureOut"]["properties"]
    assert "lastEventAt" in schemas["EventTypeOut"]["properties"]


async def test_the_served_document_is_the_generated_one(
    app_and_spec: tuple[Any, dict[str, Any]],
) -> None:
    app, spec = app_and_spec
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/openapi.json")
    assert r.status_code == 200 and r.json() == spec
