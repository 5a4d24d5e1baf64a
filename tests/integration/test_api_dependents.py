"""``/api/v1/workflows`` and ``/api/v1/segments`` against a real registry on the real broker:
idempotent PUTs, system types from launch conditions, the 409 of segments over types
without segmentation, lists, deletes and every refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from test_api_support import (
    ENGINE,
    READ,
    Api,
    ServicesLike,
    api_settings,
    api_stack,
    error_of,
    unique,
)

from eventgate.registry import structure
from eventgate.registry.requests import MergeStructure


@pytest.fixture(scope="module")
async def api(services: ServicesLike) -> AsyncIterator[Api]:
    async with api_stack(api_settings(services.kafka_bootstrap, services.redis_url)) as stack:
        yield stack


async def create_type(api: Api, key: str, **fields: Any) -> None:
    r = await api.call("POST", "/event-types", json={"key": key, "name": key, **fields})
    assert r.status_code == 201, r.text


# -- workflows ------------------------------------------------------------------------------


async def test_put_workflow_is_idempotent(api: Api) -> None:
    wid, key = unique("wf"), unique("launch-key")
    body = {"name": "Welcome", "status": "active", "launchOn": [key], "stopOn": []}
    r = await api.call("PUT", f"/workflows/{wid}", token=ENGINE, json=body)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/api/v1/workflows/{wid}"
    expected = {
        "id": wid,
        "name": "Welcome",
        "status": "active",
        "launchOn": [key],
        "stopOn": [],
        "launchCondition": None,
        "systemType": None,
    }
    assert r.json() == expected
    again = await api.call("PUT", f"/workflows/{wid}", token=ENGINE, json=body)
    assert again.status_code == 200 and again.json() == expected
    # keys not registered yet are allowed, and nothing registers them
    assert (await api.call("GET", f"/event-types/{key}")).status_code == 404
    # a change replaces the whole workflow
    changed = {"name": "Welcome 2", "status": "inactive", "stopOn": [key], "id": wid}
    r = await api.call("PUT", f"/workflows/{wid}", token=ENGINE, json=changed)
    assert r.status_code == 200
    assert r.json() == {
        **expected,
        "name": "Welcome 2",
        "status": "inactive",
        "launchOn": [],
        "stopOn": [key],
    }
    got = await api.call("GET", f"/workflows/{wid}", token=READ)
    assert got.status_code == 200 and got.json() == r.json()


async def test_launch_condition_creates_the_system_type(api: Api) -> None:
    segment_id = unique("1234").replace(".", "")
    wid = unique("regular")
    r = await api.call(
        "PUT",
        f"/workflows/{wid}",
        token=ENGINE,
        json={
            "name": "VIP welcome",
            "status": "active",
            "launchCondition": {"segmentId": segment_id, "segmentName": "VIP buyers"},
        },
    )
    assert r.status_code == 201, r.text
    key = f"segment.{segment_id}"
    assert r.json()["systemType"] == key
    assert r.json()["launchCondition"] == {"segmentId": segment_id, "segmentName": "VIP buyers"}
    t = (await api.call("GET", f"/event-types/{key}")).json()
    assert t["name"] == f"Regular workflow: VIP buyers ({segment_id})"
    assert t["category"] == "regular_workflow" and t["origin"] == "system"
    assert t["system"] == {"segmentId": segment_id, "segmentName": "VIP buyers"}
    deps = (await api.call("GET", f"/event-types/{key}/dependencies")).json()
    assert deps["items"] == [
        {"id": wid, "name": "VIP welcome", "kind": "launch", "status": "active"}
    ]
    # a second workflow on the same segment shares the type; a rename renames it
    other = unique("regular2")
    r = await api.call(
        "PUT",
        f"/workflows/{other}",
        token=ENGINE,
        json={
            "name": "VIP again",
            "status": "active",
            "launchCondition": {"segmentId": segment_id, "segmentName": "VIP clients"},
        },
    )
    assert r.status_code == 201
    t = (await api.call("GET", f"/event-types/{key}")).json()
    assert t["name"] == f"Regular workflow: VIP clients ({segment_id})"
    counts = (await api.call("GET", f"/event-types/{key}/dependencies")).json()["counts"]
    assert counts["launch"] == 2
    # the system type cannot go while the workflows use it
    r = await api.call("DELETE", f"/event-types/{key}")
    assert r.status_code == 409 and wid in error_of(r)["message"]
    # deleting the workflows leaves the type, which can then be deleted
    for ident in (wid, other):
        assert (await api.call("DELETE", f"/workflows/{ident}", token=ENGINE)).status_code == 204
    assert (await api.call("GET", f"/event-types/{key}")).status_code == 200
    assert (await api.call("DELETE", f"/event-types/{key}")).status_code == 204


async def test_contact_field_condition_adopts_an_existing_auto_type(api: Api) -> None:
    field_id = unique("cf").replace(".", "")
    key = f"contactField.{field_id}"
    assert await api.registry.ensure_types([key]) == {key: "registered"}
    seen = structure.discover(structure.Structure({}), {"old": "a"}, 1_767_225_600_000)
    assert seen is not None
    (
        await api.registry.request(
            MergeStructure(key=key, additions=structure.additions_to_json(seen))
        )
    ).raise_for_code()
    r = await api.call(
        "PUT",
        f"/workflows/{unique('cfw')}",
        token=ENGINE,
        json={
            "name": "On field change",
            "status": "active",
            "launchCondition": {"contactFieldId": field_id, "contactFieldName": "City"},
        },
    )
    assert r.status_code == 201, r.text
    t = (await api.call("GET", f"/event-types/{key}")).json()
    assert t["origin"] == "system" and t["category"] == "contact_field_change"
    assert t["name"] == f"Contact field change: City ({field_id})"
    paths = (await api.call("GET", f"/event-types/{key}/structure")).json()["paths"]
    assert [p["path"] for p in paths] == ["params.old"]  # the structure was kept


@pytest.mark.parametrize(
    ("path_id", "body", "where"),
    [
        ("w-ok", {"status": "active"}, "name"),
        ("w-ok", {"name": "n"}, "status"),
        ("w-ok", {"name": "n", "status": "paused"}, "status"),
        ("w-ok", {"name": "n", "status": "active", "launchOn": ["bad key"]}, "launchOn"),
        ("w-ok", {"name": "n", "status": "active", "launchOn": "k"}, "launchOn"),
        ("w-ok", {"name": "n", "status": "active", "stopOn": [1]}, "stopOn"),
        ("w-ok", {"name": "n", "status": "active", "launchOn": ["k"] * 1001}, "launchOn"),
        ("w-ok", {"name": "n", "status": "active", "color": "red"}, "color"),
        ("w-ok", {"name": "n", "status": "active", "id": "other"}, "id"),
        (
            "w-ok",
            {"name": "n", "status": "active", "launchCondition": {"segmentId": "1"}},
            "launchCondition",
        ),
        (
            "w-ok",
            {
                "name": "n",
                "status": "active",
                "launchCondition": {"segmentId": "a/b", "segmentName": "x"},
            },
            "launchCondition",
        ),
        (
            "w-ok",
            {
                "name": "n",
                "status": "active",
                "launchCondition": {
                    "segmentId": "1",
                    "segmentName": "x",
                    "contactFieldId": "2",
                    "contactFieldName": "y",
                },
            },
            "launchCondition",
        ),
        ("bad id!", {"name": "n", "status": "active"}, "id"),
        ("x" * 201, {"name": "n", "status": "active"}, "id"),
    ],
)
async def test_put_workflow_refuses_invalid_input(
    api: Api, path_id: str, body: dict[str, Any], where: str
) -> None:
    r = await api.call("PUT", f"/workflows/{path_id}", token=ENGINE, json=body)
    assert r.status_code == 422, r.text
    error = error_of(r)
    mismatch = "id" in body and body["id"] != path_id
    assert error["code"] == ("id_mismatch" if mismatch else "invalid_request")
    assert where in error["message"] or any(where in p["path"] for p in error["details"] or [])
    assert (await api.call("GET", "/workflows/w-ok")).status_code == 404


async def test_list_and_delete_workflows(api: Api) -> None:
    key = unique("lk")
    ids = sorted(unique(f"lw{i}") for i in range(3))
    statuses = ["active", "inactive", "active"]
    for ident, status in zip(ids, statuses, strict=True):
        r = await api.call(
            "PUT",
            f"/workflows/{ident}",
            token=ENGINE,
            json={
                "name": ident,
                "status": status,
                "launchOn": [key] if status == "active" else [],
                "stopOn": [key],
            },
        )
        assert r.status_code == 201
    r = await api.call("GET", "/workflows", token=READ, params={"eventTypeKey": key})
    page = r.json()
    assert r.status_code == 200 and [w["id"] for w in page["items"]] == ids and page["total"] == 3
    r = await api.call(
        "GET", "/workflows", token=ENGINE, params={"eventTypeKey": key, "status": "inactive"}
    )
    assert [w["id"] for w in r.json()["items"]] == [ids[1]]
    r = await api.call("GET", "/workflows", params={"eventTypeKey": key, "limit": 1, "offset": 2})
    assert [w["id"] for w in r.json()["items"]] == [ids[2]] and r.json()["total"] == 3
    everything = (await api.call("GET", "/workflows", params={"limit": 500})).json()
    assert set(ids) <= {w["id"] for w in everything["items"]}
    for params in ({"limit": 0}, {"offset": -1}, {"status": "x"}, {"eventTypeKey": "k" * 101}):
        r = await api.call("GET", "/workflows", params=params)
        assert r.status_code == 422 and error_of(r)["code"] == "invalid_request"
    assert (await api.call("DELETE", f"/workflows/{ids[0]}", token=ENGINE)).status_code == 204
    r = await api.call("DELETE", f"/workflows/{ids[0]}", token=ENGINE)
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    assert (await api.call("GET", f"/workflows/{ids[0]}")).status_code == 404
    r = await api.call("GET", "/workflows", params={"eventTypeKey": key})
    assert [w["id"] for w in r.json()["items"]] == ids[1:]


# -- segments -------------------------------------------------------------------------------


async def test_segment_over_types_without_segmentation_is_409_naming_them(api: Api) -> None:
    on, off, missing = unique("on"), unique("off"), unique("missing")
    await create_type(api, on, segmentation=True)
    await create_type(api, off)
    sid = unique("seg")
    r = await api.call(
        "PUT",
        f"/segments/{sid}",
        token=ENGINE,
        json={"name": "Buyers", "eventTypeKeys": [on, off, missing]},
    )
    assert r.status_code == 409
    error = error_of(r)
    assert error["code"] == "conflict"
    assert off in error["message"] and missing in error["message"] and on not in error["message"]
    assert error["details"]["segmentationOff"] == [off]
    assert error["details"]["missing"] == [missing]
    assert (await api.call("GET", f"/segments/{sid}")).status_code == 404
    # switch segmentation on: now it is accepted
    assert (
        await api.call("PATCH", f"/event-types/{off}", json={"segmentation": True})
    ).status_code == 200
    r = await api.call(
        "PUT", f"/segments/{sid}", token=ENGINE, json={"name": "Buyers", "eventTypeKeys": [on, off]}
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/api/v1/segments/{sid}"
    assert r.json() == {"id": sid, "name": "Buyers", "eventTypeKeys": [on, off]}


async def test_put_segment_is_idempotent_and_lists_and_deletes(api: Api) -> None:
    key = unique("sk")
    await create_type(api, key, segmentation=True)
    sid = unique("s")
    body = {"name": "Fans", "eventTypeKeys": [key, key]}
    first = await api.call("PUT", f"/segments/{sid}", token=ENGINE, json=body)
    assert first.status_code == 201 and first.json()["eventTypeKeys"] == [key]
    again = await api.call("PUT", f"/segments/{sid}", token=ENGINE, json=body)
    assert again.status_code == 200 and again.json() == first.json()
    r = await api.call("GET", "/segments", token=READ, params={"eventTypeKey": key})
    assert r.json() == {"items": [first.json()], "total": 1, "limit": 50, "offset": 0}
    assert (await api.call("GET", f"/segments/{sid}", token=ENGINE)).json() == first.json()
    assert (await api.call("DELETE", f"/segments/{sid}", token=ENGINE)).status_code == 204
    assert (await api.call("DELETE", f"/segments/{sid}", token=ENGINE)).status_code == 404
    assert (await api.call("GET", "/segments", params={"eventTypeKey": key})).json()["total"] == 0


@pytest.mark.parametrize(
    ("path_id", "body"),
    [
        ("s-ok", {"eventTypeKeys": []}),
        ("s-ok", {"name": "n", "eventTypeKeys": ["bad key"]}),
        ("s-ok", {"name": "n", "eventTypeKeys": {"a": 1}}),
        ("s-ok", {"name": "n", "eventTypeKeys": ["k"] * 1001}),
        ("s-ok", {"name": "n", "id": "s-other"}),
        ("s-ok", {"name": "n", "extra": True}),
        ("s ok", {"name": "n"}),
    ],
)
async def test_put_segment_refuses_invalid_input(
    api: Api, path_id: str, body: dict[str, Any]
) -> None:
    r = await api.call("PUT", f"/segments/{path_id}", token=ENGINE, json=body)
    assert r.status_code == 422, r.text
    # a body id other than the path's is not a schema breach: it has its own code
    assert error_of(r)["code"] == ("id_mismatch" if "id" in body else "invalid_request")


async def test_segment_with_no_keys_is_allowed(api: Api) -> None:
    sid = unique("empty")
    r = await api.call("PUT", f"/segments/{sid}", token=ENGINE, json={"name": "Nobody"})
    assert r.status_code == 201 and r.json()["eventTypeKeys"] == []
