"""``/api/v1/event-types`` and its sub-resources against a real registry on the real broker:
every endpoint's success and error paths, ETags and If-Match, read-your-write."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from test_api_support import READ, Api, ServicesLike, api_settings, api_stack, error_of, unique

from eventgate.registry import structure
from eventgate.registry.requests import MergeStructure


@pytest.fixture(scope="module")
async def api(services: ServicesLike) -> AsyncIterator[Api]:
    async with api_stack(api_settings(services.kafka_bootstrap, services.redis_url)) as stack:
        yield stack


async def create(api: Api, key: str, **fields: Any) -> dict[str, Any]:
    r = await api.call("POST", "/event-types", json={"key": key, "name": f"Type {key}", **fields})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


# -- POST /event-types ------------------------------------------------------------------------


async def test_create_answers_201_with_location_and_etag_and_get_sees_it(api: Api) -> None:
    key = unique("purchase")
    rules = [{"name": "sku", "required": True, "type": "string"}]
    r = await api.call(
        "POST",
        "/event-types",
        json={
            "key": key,
            "name": "Purchase",
            "category": "click",
            "segmentation": True,
            "validation": {"enabled": True, "rules": rules},
            "volumeFloor": {"events": 10, "hours": 2},
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/api/v1/event-types/{key}"
    assert r.headers["etag"] == '"1"'
    body = r.json()
    assert body["key"] == key and body["name"] == "Purchase" and body["category"] == "click"
    assert body["segmentation"] is True and body["origin"] == "manual" and body["system"] is None
    assert body["validation"] == {"enabled": True, "rules": rules}
    assert body["volumeFloor"] == {"events": 10, "hours": 2}
    assert body["status"] == "inactive" and body["lastEventAt"] is None
    assert body["version"] == 1
    # read-your-write: the very next GET (and the list) see it
    got = await api.call("GET", f"/event-types/{key}", token=READ)
    assert got.status_code == 200 and got.json() == body and got.headers["etag"] == '"1"'
    listed = await api.call("GET", "/event-types", params={"q": key})
    assert [i["key"] for i in listed.json()["items"]] == [key]


async def test_create_defaults(api: Api) -> None:
    key = unique("defaults")
    body = await create(api, key)
    assert body["category"] == "other" and body["segmentation"] is False
    assert body["validation"] == {"enabled": False, "rules": None}
    assert body["volumeFloor"] is None


async def test_duplicate_key_is_409_naming_the_key(api: Api) -> None:
    key = unique("dup")
    await create(api, key)
    r = await api.call("POST", "/event-types", json={"key": key, "name": "again"})
    assert r.status_code == 409
    error = error_of(r)
    assert error["code"] == "conflict" and key in error["message"]
    assert error["details"]["key"] == key


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"key": "ok-key", "name": ""}, "name"),
        ({"key": "ok-key", "name": "   "}, "name"),
        ({"key": "ok-key", "name": "x" * 201}, "name"),
        ({"key": "ok-key"}, "name"),
        ({"name": "n"}, "key"),
        ({"key": "-starts-with-dash", "name": "n"}, "key"),
        ({"key": "has space", "name": "n"}, "key"),
        ({"key": "k" * 101, "name": "n"}, "key"),
        ({"key": "ünicode", "name": "n"}, "key"),
        ({"key": 12, "name": "n"}, "key"),
        ({"key": "ok-key", "name": "n", "category": "nope"}, "category"),
        ({"key": "ok-key", "name": "n", "segmentation": "true"}, "segmentation"),
        ({"key": "ok-key", "name": "n", "segmentation": 1}, "segmentation"),
        ({"key": "ok-key", "name": "n", "volumeFloor": {"events": 0, "hours": 1}}, "events"),
        ({"key": "ok-key", "name": "n", "volumeFloor": {"events": 1, "hours": 9000}}, "hours"),
        ({"key": "ok-key", "name": "n", "volumeFloor": {"events": 1.5, "hours": 1}}, "events"),
        ({"key": "ok-key", "name": "n", "volumeFloor": {"events": 10**30, "hours": 1}}, "events"),
        ({"key": "ok-key", "name": "n", "validation": {"rules": []}}, "enabled"),
        ({"key": "ok-key", "name": "n", "unknownField": 1}, "unknownField"),
        ({"key": "ok-key", "name": "n", "volume_floor": None}, "volume_floor"),
        ({"key": "ok-key", "name": "\ud800"}, "name"),
    ],
)
async def test_create_refuses_invalid_fields_with_422_naming_the_field(
    api: Api, body: dict[str, Any], path: str
) -> None:
    r = await api.call("POST", "/event-types", json=body)
    assert r.status_code == 422, r.text
    error = error_of(r)
    assert error["code"] == "invalid_request"
    assert any(path in p["path"] for p in error["details"]), error


async def test_create_refuses_bad_rules_before_writing(api: Api) -> None:
    key = unique("badrules")
    r = await api.call(
        "POST",
        "/event-types",
        json={"key": key, "name": "n", "validation": {"enabled": True, "rules": {"type": "nope"}}},
    )
    assert r.status_code == 422
    error = error_of(r)
    assert error["code"] == "invalid_rules" and "type must be one of" in error["message"]
    assert error["details"]["path"] == "/type"
    assert (await api.call("GET", f"/event-types/{key}")).status_code == 404


async def test_enabled_validation_needs_rules(api: Api) -> None:
    r = await api.call(
        "POST",
        "/event-types",
        json={"key": unique("norules"), "name": "n", "validation": {"enabled": True}},
    )
    assert r.status_code == 422 and error_of(r)["code"] == "invalid_rules"


# -- GET /event-types/{key} -----------------------------------------------------------------


async def test_get_unknown_type_is_404(api: Api) -> None:
    for key in ("no-such-type", "not a key", "x" * 5000):
        r = await api.call("GET", f"/event-types/{key}")
        assert r.status_code == 404
        error = error_of(r)
        assert error["code"] == "not_found" and len(error["message"]) < 200


async def test_get_with_if_none_match_answers_304_when_current(api: Api) -> None:
    key = unique("cache")
    await create(api, key)
    r = await api.call("GET", f"/event-types/{key}", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304 and r.headers["etag"] == '"1"' and r.content == b""
    r = await api.call("GET", f"/event-types/{key}", headers={"If-None-Match": 'W/"1"'})
    assert r.status_code == 304
    r = await api.call("GET", f"/event-types/{key}", headers={"If-None-Match": '"7"'})
    assert r.status_code == 200


# -- PATCH /event-types/{key} ---------------------------------------------------------------


async def test_patch_changes_fields_and_honours_if_match(api: Api) -> None:
    key = unique("patch")
    await create(api, key, volumeFloor={"events": 5, "hours": 1})
    # no If-Match: allowed
    r = await api.call("PATCH", f"/event-types/{key}", json={"name": "Renamed"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Renamed" and r.headers["etag"] == '"2"'
    # the right version
    r = await api.call(
        "PATCH",
        f"/event-types/{key}",
        json={"category": "rfm", "segmentation": True},
        headers={"If-Match": '"2"'},
    )
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    assert r.json()["category"] == "rfm" and r.json()["segmentation"] is True
    # a stale version: 412, nothing changes
    r = await api.call(
        "PATCH", f"/event-types/{key}", json={"name": "Stale"}, headers={"If-Match": '"2"'}
    )
    assert r.status_code == 412
    error = error_of(r)
    assert error["code"] == "precondition_failed" and error["details"]["version"] == 3
    # weak tags never match an If-Match; several tags: one must be current
    r = await api.call(
        "PATCH", f"/event-types/{key}", json={"name": "Weak"}, headers={"If-Match": 'W/"3"'}
    )
    assert r.status_code == 412
    r = await api.call(
        "PATCH", f"/event-types/{key}", json={"name": "Listed"}, headers={"If-Match": '"1", "3"'}
    )
    assert r.status_code == 200 and r.headers["etag"] == '"4"'
    r = await api.call(
        "PATCH", f"/event-types/{key}", json={"name": "Star"}, headers={"If-Match": "*"}
    )
    assert r.status_code == 200 and r.headers["etag"] == '"5"'
    # a future version this process has not seen goes to the writer, which refuses it
    r = await api.call(
        "PATCH", f"/event-types/{key}", json={"name": "Future"}, headers={"If-Match": '"99"'}
    )
    assert r.status_code == 412 and error_of(r)["details"]["expected"] == 99
    r = await api.call(
        "PATCH", f"/event-types/{key}", json={"name": "x"}, headers={"If-Match": "garbage"}
    )
    assert r.status_code == 400 and error_of(r)["code"] == "invalid_header"
    # volumeFloor: null removes the floor; an empty patch changes nothing
    r = await api.call("PATCH", f"/event-types/{key}", json={"volumeFloor": None})
    assert r.status_code == 200 and r.json()["volumeFloor"] is None and r.json()["version"] == 6
    r = await api.call("PATCH", f"/event-types/{key}", json={})
    assert r.status_code == 200 and r.json()["version"] == 6
    got = (await api.call("GET", f"/event-types/{key}")).json()
    assert got["name"] == "Star" and got["category"] == "rfm" and got["version"] == 6


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"category": None},
        {"segmentation": None},
        {"name": ""},
        {"category": "bogus"},
        {"segmentation": "yes"},
        {"key": "rename-not-allowed"},
        {"validation": {"enabled": False}},
        {"volumeFloor": {"events": 1}},
        [],
        "name",
    ],
)
async def test_patch_refuses_invalid_bodies(api: Api, body: Any) -> None:
    key = unique("patchbad")
    await create(api, key)
    r = await api.call("PATCH", f"/event-types/{key}", json=body)
    assert r.status_code == 422, r.text
    assert error_of(r)["code"] == "invalid_request"
    assert (await api.call("GET", f"/event-types/{key}")).json()["version"] == 1


async def test_patch_unknown_type_is_404(api: Api) -> None:
    r = await api.call("PATCH", "/event-types/never-created", json={"name": "x"})
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"


async def test_segmentation_cannot_be_switched_off_under_a_segment(api: Api) -> None:
    key = unique("segd")
    await create(api, key, segmentation=True)
    seg = unique("seg")
    r = await api.call("PUT", f"/segments/{seg}", json={"name": "S", "eventTypeKeys": [key]})
    assert r.status_code == 201, r.text
    r = await api.call("PATCH", f"/event-types/{key}", json={"segmentation": False})
    assert r.status_code == 409
    error = error_of(r)
    assert seg in error["message"] and error["details"]["segments"][0]["id"] == seg


# -- DELETE /event-types/{key} --------------------------------------------------------------


async def test_delete_answers_204_and_the_type_is_gone(api: Api) -> None:
    key = unique("del")
    await create(api, key)
    r = await api.call("DELETE", f"/event-types/{key}", headers={"If-Match": '"1"'})
    assert r.status_code == 204 and r.content == b""
    assert (await api.call("GET", f"/event-types/{key}")).status_code == 404
    assert (await api.call("DELETE", f"/event-types/{key}")).status_code == 404
    # the key is free again: it can be created anew, at version 1
    assert (await create(api, key))["version"] == 1


async def test_delete_honours_if_match(api: Api) -> None:
    key = unique("delif")
    await create(api, key)
    await api.call("PATCH", f"/event-types/{key}", json={"name": "v2"})
    r = await api.call("DELETE", f"/event-types/{key}", headers={"If-Match": '"1"'})
    assert r.status_code == 412
    assert (await api.call("GET", f"/event-types/{key}")).status_code == 200


async def test_delete_is_refused_while_dependents_exist_and_lists_them(api: Api) -> None:
    key = unique("deps")
    await create(api, key, segmentation=True)
    launch, stop, seg = unique("wl"), unique("ws"), unique("sg")
    await api.call(
        "PUT",
        f"/workflows/{launch}",
        json={"name": "Launcher", "status": "active", "launchOn": [key]},
    )
    await api.call(
        "PUT", f"/workflows/{stop}", json={"name": "Stopper", "status": "inactive", "stopOn": [key]}
    )
    await api.call("PUT", f"/segments/{seg}", json={"name": "Seg", "eventTypeKeys": [key]})
    r = await api.call("DELETE", f"/event-types/{key}")
    assert r.status_code == 409
    error = error_of(r)
    assert error["code"] == "conflict"
    for ident in (launch, stop, seg):
        assert ident in error["message"]
    assert sorted(error["details"]["dependencies"], key=lambda d: d["kind"]) == [
        {"id": launch, "name": "Launcher", "kind": "launch", "status": "active"},
        {"id": seg, "name": "Seg", "kind": "segment", "status": None},
        {"id": stop, "name": "Stopper", "kind": "stop", "status": "inactive"},
    ]
    assert (await api.call("GET", f"/event-types/{key}")).status_code == 200
    # once nothing depends on it, it goes
    for path in (f"/workflows/{launch}", f"/workflows/{stop}", f"/segments/{seg}"):
        assert (await api.call("DELETE", path)).status_code == 204
    assert (await api.call("DELETE", f"/event-types/{key}")).status_code == 204


# -- validation ----------------------------------------------------------------------------


async def test_validation_get_and_put(api: Api) -> None:
    key = unique("val")
    await create(api, key)
    r = await api.call("GET", f"/event-types/{key}/validation", token=READ)
    assert r.status_code == 200 and r.json() == {"enabled": False, "rules": None}
    assert r.headers["etag"] == '"1"'
    schema = {"type": "object", "properties": {"sku": {"type": "string", "pattern": "^[A-Z]+$"}}}
    r = await api.call(
        "PUT",
        f"/event-types/{key}/validation",
        json={"enabled": True, "rules": schema},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"enabled": True, "rules": schema} and r.headers["etag"] == '"2"'
    got = await api.call("GET", f"/event-types/{key}/validation")
    assert got.json() == {"enabled": True, "rules": schema}
    assert (await api.call("GET", f"/event-types/{key}")).json()["validation"]["enabled"] is True
    # stale If-Match
    r = await api.call(
        "PUT",
        f"/event-types/{key}/validation",
        json={"enabled": False, "rules": None},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 412
    # switching off keeps the rules that are sent; the same body twice changes nothing
    body = {"enabled": False, "rules": schema}
    r = await api.call("PUT", f"/event-types/{key}/validation", json=body)
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    r = await api.call("PUT", f"/event-types/{key}/validation", json=body)
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    r = await api.call("GET", f"/event-types/{key}/validation", headers={"If-None-Match": '"3"'})
    assert r.status_code == 304


@pytest.mark.parametrize(
    "body",
    [
        {"rules": []},
        {"enabled": "true", "rules": []},
        {"enabled": True, "rules": [], "extra": 1},
        {"enabled": True, "rules": "object"},
        {"enabled": True, "rules": 3},
        {"enabled": True},
        {"enabled": True, "rules": [{"name": "a"}]},
    ],
)
async def test_put_validation_refuses_bad_bodies(api: Api, body: Any) -> None:
    key = unique("valbad")
    await create(api, key)
    r = await api.call("PUT", f"/event-types/{key}/validation", json=body)
    assert r.status_code == 422, r.text
    assert error_of(r)["code"] in {"invalid_request", "invalid_rules"}
    assert (await api.call("GET", f"/event-types/{key}")).json()["version"] == 1


async def test_rules_that_break_their_shape_are_422_even_with_a_stale_if_match(
    api: Api,
) -> None:
    """The body is judged before the precondition: a 412 would tell the client its
    schema-invalid rules were fine."""
    key = unique("shape")
    await create(api, key)
    r = await api.call(
        "PUT",
        f"/event-types/{key}/validation",
        json={"enabled": True, "rules": [{"name": 0, "required": True}]},
        headers={"If-Match": '"0"'},  # older than the type's version 1
    )
    assert r.status_code == 422 and error_of(r)["code"] == "invalid_rules", r.text


async def test_validation_of_unknown_type_is_404(api: Api) -> None:
    assert (await api.call("GET", "/event-types/nope-x/validation")).status_code == 404
    r = await api.call("PUT", "/event-types/nope-x/validation", json={"enabled": False})
    assert r.status_code == 404


# -- structure -----------------------------------------------------------------------------


async def test_structure_preview_shows_json_and_copyable_paths(api: Api) -> None:
    key = unique("struct")
    await create(api, key)
    r = await api.call("GET", f"/event-types/{key}/structure")
    assert r.status_code == 200
    assert r.json() == {
        "key": key,
        "version": 1,
        "json": {},
        "paths": [],
        "pathCount": 0,
        "maxPaths": structure.MAX_PATHS,
        "maxDepth": structure.MAX_DEPTH,
    }
    params = {"total": 9.5, "items": [{"sku": "A1", "qty": 2}], "coupon": None}
    seen = int(time.time() * 1000)
    additions = structure.discover(structure.Structure({}), params, seen)
    assert additions is not None
    reply = await api.registry.request(
        MergeStructure(key=key, additions=structure.additions_to_json(additions))
    )
    reply.raise_for_code()
    r = await api.call("GET", f"/event-types/{key}/structure", token=READ)
    body = r.json()
    assert body["json"] == {
        "coupon": "null",
        "items": [{"qty": "integer", "sku": "string"}],
        "total": "number",
    }
    assert [(p["path"], p["kind"]) for p in body["paths"]] == [
        ("params.coupon", "null"),
        ("params.items", "array"),
        ("params.items[]", "object"),
        ("params.items[].qty", "integer"),
        ("params.items[].sku", "string"),
        ("params.total", "number"),
    ]
    assert body["pathCount"] == 6 and body["version"] == 2 and r.headers["etag"] == '"2"'
    assert all(p["firstSeenAt"].endswith("Z") for p in body["paths"])


async def test_structure_of_unknown_type_is_404(api: Api) -> None:
    assert (await api.call("GET", "/event-types/nope-y/structure")).status_code == 404


# -- dependencies ---------------------------------------------------------------------------


async def test_dependencies_list_each_workflow_and_segment(api: Api) -> None:
    key = unique("dep")
    await create(api, key, segmentation=True)
    r = await api.call("GET", f"/event-types/{key}/dependencies")
    assert r.status_code == 200
    assert r.json() == {
        "key": key,
        "items": [],
        "counts": {"launch": 0, "stop": 0, "segments": 0, "total": 0},
    }
    both, seg = unique("wboth"), unique("sg")
    await api.call(
        "PUT",
        f"/workflows/{both}",
        json={"name": "Both", "status": "inactive", "launchOn": [key], "stopOn": [key]},
    )
    await api.call("PUT", f"/segments/{seg}", json={"name": "Buyers", "eventTypeKeys": [key]})
    r = await api.call("GET", f"/event-types/{key}/dependencies", token=READ)
    assert r.json() == {
        "key": key,
        "items": [
            {"id": both, "name": "Both", "kind": "launch", "status": "inactive"},
            {"id": both, "name": "Both", "kind": "stop", "status": "inactive"},
            {"id": seg, "name": "Buyers", "kind": "segment", "status": None},
        ],
        "counts": {"launch": 1, "stop": 1, "segments": 1, "total": 3},
    }
    assert (await api.call("GET", "/event-types/nope-z/dependencies")).status_code == 404


# -- GET /event-types -------------------------------------------------------------------------


async def test_list_filters_sorts_and_pages(api: Api) -> None:
    tag = unique("lst").replace(".", "")
    keys = [f"{tag}-{c}" for c in "abcd"]
    await create(api, keys[0], category="rfm")
    await create(api, keys[1], segmentation=True)
    await create(api, keys[2])
    await create(api, keys[3])
    await api.call(
        "PUT",
        f"/workflows/{tag}-w",
        json={"name": "W", "status": "active", "launchOn": [keys[2]], "stopOn": [keys[3]]},
    )

    async def listed(**params: Any) -> list[str]:
        r = await api.call("GET", "/event-types", params={"q": tag, **params}, token=READ)
        assert r.status_code == 200, r.text
        return [item["key"] for item in r.json()["items"]]

    assert await listed() == keys
    assert await listed(q=tag.upper()) == keys  # case-insensitive search
    assert await listed(sort="-key") == keys[::-1]
    assert await listed(dependency="launch") == [keys[2]]
    assert await listed(dependency="stop") == [keys[3]]
    assert await listed(dependency="segmentation") == [keys[1]]
    assert await listed(dependency="none") == keys[:2]
    assert await listed(status="active") == []
    assert await listed(status="inactive") == keys
    assert await listed(limit=2, offset=1) == keys[1:3]
    page = (await api.call("GET", "/event-types", params={"q": tag, "limit": 1})).json()
    assert page["total"] == 4 and page["limit"] == 1 and page["offset"] == 0
    item = page["items"][0]
    assert item["validation"] == {"enabled": False} and "rules" not in item["validation"]
    rows = (await api.call("GET", "/event-types", params={"q": tag})).json()["items"]
    assert rows[2]["dependencies"] == {"launch": 1, "stop": 0, "segments": 0, "total": 1}
    assert await listed(sort="-name") == keys[::-1]
    by_category = await listed(sort="category")
    assert by_category[-1] == keys[0]  # "rfm" sorts after "other"; ties by key


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"dependency": "x"},
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "ten"},
        {"offset": "-1"},
        {"sort": "nope"},
        {"sort": "--key"},
        {"sort": "-"},
        {"q": "x" * 201},
    ],
)
async def test_list_refuses_bad_parameters_with_422(api: Api, params: dict[str, str]) -> None:
    r = await api.call("GET", "/event-types", params=params)
    assert r.status_code == 422, r.text
    error = error_of(r)
    assert error["code"] == "invalid_request" and next(iter(params)) in error["message"]


async def test_unknown_routes_and_methods_answer_in_the_error_shape(api: Api) -> None:
    r = await api.call("GET", "/no-such-route")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    r = await api.call("PUT", "/event-types")
    assert r.status_code == 405 and error_of(r)["code"] == "method_not_allowed"
    assert r.headers["allow"] == "GET, OPTIONS, POST"


async def test_the_registry_keeps_what_the_api_wrote(api: Api) -> None:
    """The API's answers come from the registry state the log built, nothing else."""
    key = unique("kept")
    await create(api, key, category="import")
    t = api.registry.state.get(key)
    assert t is not None and t.category == "import" and t.name == f"Type {key}"
    assert orjson.loads(t.structure_json) == {}
