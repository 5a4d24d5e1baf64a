"""The compile-time bound on validation cost (SPEC §4: rules are untrusted): what it
refuses, what it lets through, and that its figures are sound for what it counts."""

from __future__ import annotations

from typing import Any

import pytest

from eventgate.validation import RulesError, compile_rules
from eventgate.validation.capped import MAX_ERRORS
from eventgate.validation.checks import check_schema
from eventgate.validation.cost import (
    CALL_CHECKS,
    MAX_ARRAY_ITEMS,
    MAX_CHECKS,
    MAX_OBJECT_PROPERTIES,
    TRIAL_CHECKS,
    check_cost,
    own_checks,
)


def cost(schema: dict[str, Any]) -> int:
    return check_cost(schema, check_schema(schema))


def refused(rules: Any) -> RulesError:
    with pytest.raises(RulesError) as caught:
        compile_rules(rules)
    assert "checks to validate one event" in caught.value.message
    assert f"limit of {MAX_CHECKS:,}" in caught.value.message
    return caught.value


def branches(count: int) -> list[dict[str, Any]]:
    return [{"type": "integer", "minimum": i + 1} for i in range(count)]


def in_items(item: dict[str, Any], max_items: int | None = None) -> dict[str, Any]:
    array: dict[str, Any] = {"items": item}
    if max_items is not None:
        array["maxItems"] = max_items
    return {"properties": {"a": array}}


def test_the_known_slow_rule_is_refused_naming_the_limit_the_place_and_the_fix() -> None:
    error = refused(in_items({"anyOf": branches(600)}, max_items=3000))
    assert error.path == "/properties/a/items"
    assert "maxItems" in error.message and "fewer branches" in error.message


@pytest.mark.parametrize("combinator", ["anyOf", "oneOf", "allOf"])
def test_combinators_over_unbounded_arrays_are_refused_and_maxitems_fixes_them(
    combinator: str,
) -> None:
    refused(in_items({combinator: branches(20)}))
    compile_rules(in_items({combinator: branches(20)}, max_items=100))


def test_the_price_multiplies_branches_by_the_items_they_apply_to() -> None:
    one_item = cost(in_items({"anyOf": branches(10)}, max_items=1))
    hundred = cost(in_items({"anyOf": branches(10)}, max_items=100))
    assert hundred - 2 == 100 * (one_item - 2)  # root and "a": counted once
    assert one_item == 2 + 1 + 10 * (1 + TRIAL_CHECKS)  # per item: items; each branch tried


def test_nested_combinators_multiply() -> None:
    inner = {"anyOf": branches(10)}
    flat = cost(in_items({"anyOf": [inner]}, max_items=1))
    nested = cost(in_items({"anyOf": [inner] * 10}, max_items=1))
    assert nested > 9 * (flat - 5)


@pytest.mark.parametrize(
    "item",
    [
        {"enum": [f"value-{i:05d}" for i in range(3000)]},
        {"required": [f"p{i}" for i in range(500)]},
        {"properties": {f"p{i}": {"type": "string"} for i in range(2000)}},
        {"items": {"oneOf": branches(3)}},  # an array of arrays: items x items
        {"not": {"not": {"not": {"type": "string"}}}},
        {"contains": {"anyOf": branches(5)}},
    ],
    ids=["enum", "required", "properties", "nested-arrays", "not", "contains"],
)
def test_heavy_subschemas_under_unbounded_arrays_are_refused(item: dict[str, Any]) -> None:
    refused(in_items(item))


def test_pattern_properties_are_priced_per_property_of_the_data() -> None:
    many: dict[str, Any] = {"patternProperties": {f"^x{i}$": {} for i in range(1500)}}
    refused(many)
    compile_rules({**many, "maxProperties": 20})


def test_exponential_recursion_through_the_data_is_refused() -> None:
    refused({"anyOf": [{"items": {"$ref": "#"}}, {"items": {"$ref": "#"}}]})


def test_a_long_ref_chain_on_every_item_is_refused_and_priced_per_hop() -> None:
    definitions: dict[str, Any] = {f"d{i}": {"$ref": f"#/definitions/d{i + 1}"} for i in range(99)}
    definitions["d99"] = {"type": "string"}
    schema = {"definitions": definitions, **in_items({"$ref": "#/definitions/d0"})}
    refused(schema)
    once = {"definitions": definitions, "properties": {"a": {"$ref": "#/definitions/d0"}}}
    assert cost(once) == 1 + 1 + 100 * (1 + CALL_CHECKS)  # root, "a", 100 hops


@pytest.mark.parametrize(
    "schema",
    [
        in_items({"type": "string", "maxLength": 30}),
        in_items({"anyOf": [{"type": "string"}, {"type": "integer"}]}, max_items=1000),
        {
            "properties": {
                f"list{i}": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["sku", "qty"],
                        "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                    },
                }
                for i in range(50)
            }
        },
        {"definitions": {"n": {"properties": {"kids": {"items": {"$ref": "#/definitions/n"}}}}}}
        | {"$ref": "#/definitions/n"},
        {"properties": {f"p{i}": {"type": "string", "pattern": "^[a-z]"} for i in range(1000)}},
        {"enum": [f"v{i:04d}" for i in range(4000)]},  # at the root: one value
        {"patternProperties": {"^a": {}, "^b": {}}, "additionalProperties": False},
    ],
    ids=["plain-items", "two-branches", "50-arrays", "tree", "1500-props", "root-enum", "patterns"],
)
def test_ordinary_rules_are_accepted(schema: dict[str, Any]) -> None:
    assert cost(schema) <= MAX_CHECKS
    compile_rules(schema)


def test_the_simple_form_of_many_parameters_is_accepted() -> None:
    compile_rules([{"name": f"param{i:04d}", "required": i % 2 == 0} for i in range(1500)])


def test_unbounded_arrays_and_objects_are_priced_at_what_a_record_holds() -> None:
    plain = cost(in_items({"type": "string"}))
    assert MAX_ARRAY_ITEMS < plain <= 1 + 1 + MAX_ARRAY_ITEMS  # root, "a", every item once
    assert cost(in_items({"type": "string"}, max_items=10)) == 1 + 1 + 10
    objects = cost({"additionalProperties": {"type": "string"}})
    assert objects == 1 + MAX_OBJECT_PROPERTIES


def test_own_checks_count_lists_that_cost_per_value() -> None:
    assert own_checks(True) == 1
    assert own_checks({"type": "string"}) == 1
    assert own_checks({"required": ["a", "b", "c"]}) == 4
    assert own_checks({"properties": {f"p{i}": {} for i in range(32)}}) == 3
    assert own_checks({"dependencies": {"a": ["b", "c"], "d": {}}}) == 1 + 2 + 2
    assert own_checks({"enum": ["x" * 200]}) == 1 + 202 // 64


def test_the_report_of_an_invalid_event_stops_at_the_error_cap() -> None:
    rules = compile_rules(in_items({"type": "string"}))
    few = rules.violations({"a": [0] * 50})
    assert [v.path for v in few] == [f"params.a[{i}]" for i in range(50)]  # every one
    many = rules.violations({"a": [0] * 30_000})
    assert len(many) == MAX_ERRORS  # not 30,000
    assert [v.path for v in many[:3]] == ["params.a[0]", "params.a[1]", "params.a[2]"]


def test_the_cap_holds_inside_ref_targets_and_required_lists() -> None:
    schema = {
        "definitions": {"item": {"required": ["x", "y"]}},
        **in_items({"$ref": "#/definitions/item"}),
    }
    found = compile_rules(schema).violations({"a": [{}] * 5_000})
    assert MAX_ERRORS <= len(found) <= 2 * MAX_ERRORS  # one error per item, 2 missing names
    assert found[0].path == "params.a[0].x" and found[1].path == "params.a[0].y"
