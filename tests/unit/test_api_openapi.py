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
from eventgate.api.problems import CODES
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
        for code in ("401", "403", "413", "422", "429"):
            error = op["responses"][code]["content"]["application/json"]["schema"]
            assert _ref(error) == f"Error{code}", (method, path, code)
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
    assert spec["components"]["schemas"]["Error422"]["required"] == ["error"]


def test_every_error_answer_names_the_closed_list_of_its_codes(
    app_and_spec: tuple[Any, dict[str, Any]],
) -> None:
    """Each documented error status carries an enum of its codes (docs/api.md's table),
    and 429 / 503 declare their Retry-After."""
    _, spec = app_and_spec
    schemas = spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status, answer in op["responses"].items():
                if int(status) < 400:
                    continue
                name = _ref(answer["content"]["application/json"]["schema"])
                detail = _ref(schemas[name]["properties"]["error"])
                code = schemas[detail]["properties"]["code"]
                codes = code["enum"] if "enum" in code else [code["const"]]
                assert codes == list(CODES[int(status)]), (method, path, status)
                if status in ("429", "503"):
                    assert "Retry-After" in answer["headers"], (method, path, status)


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


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/v1/event-types", "GET, OPTIONS, POST"),
        ("/api/v1/event-types/k1", "DELETE, GET, OPTIONS, PATCH"),
        ("/api/v1/event-types/k1/validation", "GET, OPTIONS, PUT"),
        ("/api/v1/events", "OPTIONS, POST"),
        ("/api/v1/workflows/w-1", "DELETE, GET, OPTIONS, PUT"),
    ],
)
async def test_options_and_405_name_every_documented_method_of_the_path(
    app_and_spec: tuple[Any, dict[str, Any]], path: str, allow: str
) -> None:
    app, spec = app_and_spec
    template = next(
        t for t in spec["paths"] if t.count("/") == path.count("/") and t.split("/")[3] in path
    )
    documented = {m.upper() for m in spec["paths"][template]} | {"OPTIONS"}
    assert ", ".join(sorted(documented)) == allow
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        options = await client.options(path)  # no token needed
        assert options.status_code == 204 and options.headers["allow"] == allow
        other = next(m for m in ("PUT", "PATCH", "POST") if m not in allow)
        refused = await client.request(other, path, headers={"Authorization": "Bearer t"})
        assert refused.status_code == 405 and refused.headers["allow"] == allow
        assert refused.json()["error"]["code"] == "method_not_allowed"
        head = await client.head(path, headers={"Authorization": "Bearer t"})
        assert head.status_code == 405 and head.headers["allow"] == allow
        unknown = await client.options("/api/v1/no-such-thing")
        assert unknown.status_code == 404 and "allow" not in unknown.headers
