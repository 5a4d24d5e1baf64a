"""Compiling rules and reporting every violation (SPEC §4)."""

from __future__ import annotations

import copy
import re
from typing import Any

import fastjsonschema.draft04
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventgate.ingest.reasons import Violation
from eventgate.validation import (
    CONTACT_FALLBACK_NAMES,
    RulesError,
    canonical_rules_hash,
    compile_rules,
)
from eventgate.validation.formats import Re2Pattern
from eventgate.validation.rules import FALLBACK_NAMES_PATTERN, _FallbackNames

SIMPLE = [
    {"name": "sku", "required": True, "type": "string"},
    {"name": "qty", "required": True, "type": "integer"},
    {"name": "price", "required": False, "type": "number"},
    {"name": "gift", "required": False, "type": "boolean"},
    {"name": "meta", "required": False, "type": "object"},
    {"name": "tags", "required": False, "type": "array"},
    {"name": "note", "required": False},
]


# -- simple form ---------------------------------------------------------------------


def test_simple_form_accepts_valid_params() -> None:
    rules = compile_rules(SIMPLE)
    params = {"sku": "A-1", "qty": 2, "price": 9.5, "gift": False, "meta": {}, "tags": []}
    assert rules.violations(params) == []
    assert rules.violations({"sku": "A-1", "qty": 2.0, "note": [1, {"x": None}]}) == []


def test_simple_form_reports_each_missing_wrong_and_unknown_param() -> None:
    rules = compile_rules(SIMPLE)
    found = rules.violations({"price": "9.5", "gift": 1, "colour": "red", "size": 3})
    assert sorted(found, key=lambda v: v.path) == [
        Violation("params.colour", "unknown parameter"),
        Violation("params.gift", "must be boolean"),
        Violation("params.price", "must be number"),
        Violation("params.qty", "required parameter is missing"),
        Violation("params.size", "unknown parameter"),
        Violation("params.sku", "required parameter is missing"),
    ]


def test_simple_form_never_flags_contact_fallback_names_in_any_ascii_case() -> None:
    rules = compile_rules([{"name": "sku", "required": False}])
    for name in CONTACT_FALLBACK_NAMES:
        for variant in (name, name.lower(), name.upper()):
            assert rules.violations({variant: "x"}) == [], variant
    # Names are case-sensitive everywhere else; the fallback is ASCII case-insensitive only.
    assert rules.violations({"SKU": 1}) == [Violation("params.SKU", "unknown parameter")]
    assert rules.violations({"pu\u017fhToken": 1}) == [
        Violation("params.pu\u017fhToken", "unknown parameter")
    ]
    assert rules.violations({"email2": 1}) == [Violation("params.email2", "unknown parameter")]


def test_simple_form_type_applies_to_a_listed_fallback_name() -> None:
    rules = compile_rules([{"name": "email", "required": True, "type": "string"}])
    assert rules.violations({"email": 5}) == [Violation("params.email", "must be string")]
    assert rules.violations({"Email": 5}) == [
        Violation("params.email", "required parameter is missing")
    ]


def test_empty_simple_form_allows_only_contact_names() -> None:
    rules = compile_rules([])
    assert rules.violations({"contactId": "c1"}) == []
    assert rules.violations({"x": 1}) == [Violation("params.x", "unknown parameter")]


@pytest.mark.parametrize(
    ("rules", "message", "path"),
    [
        (["sku"], "must be an object", "/0"),
        ([{"required": True}], "name must be a non-empty string", "/0/name"),
        ([{"name": "", "required": True}], "name must be a non-empty string", "/0/name"),
        ([{"name": "a", "required": "yes"}], "required must be true or false", "/0/required"),
        ([{"name": "a"}], "required must be true or false", "/0/required"),
        ([{"name": "a", "required": True, "type": "date"}], "type must be one of", "/0/type"),
        ([{"name": "a", "required": True, "typ": "string"}], "unknown field 'typ'", "/0/typ"),
        (
            [{"name": "a", "required": True}, {"name": "a", "required": False}],
            "parameter 'a' is listed twice",
            "/1/name",
        ),
    ],
)
def test_simple_form_mistakes_are_refused(rules: Any, message: str, path: str) -> None:
    with pytest.raises(RulesError) as caught:
        compile_rules(rules)
    assert message in caught.value.message
    assert caught.value.path == path


# -- JSON Schema form ----------------------------------------------------------------

ORDER_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "https://example.com/order.json",
    "title": "Order",
    "description": "an order",
    "$comment": "annotations are allowed",
    "type": "object",
    "required": ["orderId", "items"],
    "properties": {
        "orderId": {"type": "string", "pattern": "^O-[0-9]+$", "examples": ["O-1"]},
        "total": {"type": "number", "minimum": 0, "default": 0},
        "currency": {"enum": ["EUR", "USD"], "default": "EUR"},
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["sku", "qty"],
                "properties": {
                    "sku": {"type": "string", "minLength": 3},
                    "qty": {"type": "integer", "minimum": 1},
                },
                "additionalProperties": False,
            },
        },
        "email": {"type": "string", "format": "email"},
    },
}


def test_json_schema_reports_every_violation_with_paths_into_params() -> None:
    rules = compile_rules(ORDER_SCHEMA)
    params = {
        "orderId": "X-1",
        "total": -1,
        "currency": "GBP",
        "items": [{"sku": "AB", "qty": 0, "gift": True}, {"qty": 1}, "x"],
        "email": "not-an-email",
    }
    assert sorted(rules.violations(params), key=lambda v: v.path) == [
        Violation("params.currency", "must be one of ['EUR', 'USD']"),
        Violation("params.email", "must be email"),
        Violation("params.items[0].gift", "unknown parameter"),
        Violation("params.items[0].qty", "must be bigger than or equal to 1"),
        Violation("params.items[0].sku", "must be longer than or equal to 3 characters"),
        Violation("params.items[1].sku", "required parameter is missing"),
        Violation("params.items[2]", "must be object"),
        Violation("params.orderId", "must match pattern ^O-[0-9]+$"),
        Violation("params.total", "must be bigger than or equal to 0"),
    ]


def test_valid_params_have_no_violations_and_are_never_written_to() -> None:
    rules = compile_rules(ORDER_SCHEMA)
    params = {"orderId": "O-7", "items": [{"sku": "ABC", "qty": 1}]}
    before = copy.deepcopy(params)
    assert rules.violations(params) == []
    assert params == before  # defaults (total, currency) were not filled in
    invalid: dict[str, Any] = {"items": []}
    rules.violations(invalid)
    assert invalid == {"items": []}


def test_root_violations_use_the_params_path() -> None:
    rules = compile_rules({"type": "object", "minProperties": 2})
    assert rules.violations({"a": 1}) == [Violation("params", "must contain at least 2 properties")]


def test_local_refs_and_recursion_through_the_data_work() -> None:
    rules = compile_rules(
        {
            "definitions": {
                "node": {"type": "object", "properties": {"kids": {"$ref": "#/definitions/list"}}},
                "list": {"type": "array", "items": {"$ref": "#/definitions/node"}},
            },
            "properties": {"tree": {"$ref": "#/definitions/node"}, "self": {"$ref": "#"}},
        }
    )
    assert rules.violations({"tree": {"kids": [{"kids": []}]}, "self": {"self": {}}}) == []
    assert rules.violations({"tree": {"kids": [{"kids": 3}]}}) == [
        Violation("params.tree.kids[0].kids", "must be array")
    ]


def test_refs_with_names_that_sanitise_alike_stay_distinct() -> None:
    rules = compile_rules(
        {
            "definitions": {"a-b": {"type": "string"}, "a_b": {"type": "integer"}},
            "properties": {
                "x": {"$ref": "#/definitions/a-b"},
                "y": {"$ref": "#/definitions/a_b"},
            },
        }
    )
    assert rules.violations({"x": "s", "y": 1}) == []
    assert rules.violations({"x": 1, "y": "s"}) == [
        Violation("params.x", "must be string"),
        Violation("params.y", "must be integer"),
    ]


def test_combinators_report_one_violation_each() -> None:
    rules = compile_rules(
        {
            "properties": {
                "a": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "b": {"not": {"type": "string"}},
                "c": {"if": {"type": "string"}, "then": {"maxLength": 2}, "else": {"type": "null"}},
            }
        }
    )
    found = rules.violations({"a": 1.5, "b": "s", "c": "long"})
    assert [v.path for v in found] == ["params.a", "params.b", "params.c"]


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("date", "2024-02-29", "2023-02-29"),
        ("date-time", "2024-05-01T12:30:00.5+02:00", "2024-05-01 12:30"),
        ("time", "23:59:60Z", "24:00:00Z"),
        ("email", "ann@example.com", "ann@"),
        ("hostname", "api.example.com", "-bad-.example.com"),
        ("ipv4", "192.168.0.1", "192.168.0.256"),
        ("ipv6", "2001:db8::1", "2001:db8::1%eth0"),
        ("uri", "https://example.com/a?b=c", "example.com"),
        ("uri-reference", "/a/b#c", "a b"),
        ("json-pointer", "/a/~1b", "a/b"),
        ("regex", "^[a-z]+$", "(?=lookahead)"),
    ],
)
def test_formats_are_checked(fmt: str, good: str, bad: str) -> None:
    rules = compile_rules({"properties": {"v": {"format": fmt}}})
    assert rules.violations({"v": good}) == []
    assert rules.violations({"v": bad}) == [Violation("params.v", f"must be {fmt}")]
    assert rules.violations({"v": 42}) == []  # formats apply to strings only


# -- RE2 at validation time ----------------------------------------------------------


@pytest.mark.timeout(5)
def test_catastrophic_pattern_runs_on_re2_in_linear_time() -> None:
    rules = compile_rules({"properties": {"p": {"type": "string", "pattern": "^(a+)+$"}}})
    assert rules.violations({"p": "a" * 40}) == []
    assert rules.violations({"p": "a" * 40 + "!"}) == [
        Violation("params.p", "must match pattern ^(a+)+$")
    ]


@pytest.mark.timeout(5)
def test_catastrophic_pattern_property_and_simple_check_are_linear() -> None:
    rules = compile_rules(
        {"patternProperties": {"^(a|aa)+$": {"type": "integer"}}, "additionalProperties": False}
    )
    assert rules.violations({"a" * 50: 1}) == []
    assert rules.violations({"a" * 50 + "b": 1}) == [
        Violation(f"params.{'a' * 50}b", "unknown parameter")
    ]


def test_python_re_never_sees_a_user_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real_compile = re.compile

    class Spy:
        def __getattr__(self, name: str) -> Any:
            return getattr(re, name)

        def compile(self, pattern: Any, flags: int = 0) -> Any:
            seen.append(pattern)
            return real_compile(pattern, flags)

        def search(self, pattern: Any, string: str, flags: int = 0) -> Any:
            seen.append(pattern)
            return re.search(pattern, string, flags)

    monkeypatch.setattr(fastjsonschema.draft04, "re", Spy())
    schema = {
        "properties": {"a": {"pattern": "^x$"}},
        "patternProperties": {"^y+$": {}},
        "required": ["yy"],
        "additionalProperties": False,
    }
    rules = compile_rules(schema)
    assert rules.violations({"a": "x", "yy": 1}) == []
    assert {"^x$", "^x\\Z", "^y+$"}.isdisjoint(seen)
    assert all(str(p).startswith("(?#eventgate-") for p in seen)


def test_dollar_means_end_of_text_as_in_json_schema() -> None:
    rules = compile_rules({"properties": {"p": {"pattern": "^ab$"}}})
    assert rules.violations({"p": "ab"}) == []
    assert rules.violations({"p": "ab\n"}) != []  # Python's re would accept this one


def test_lone_surrogates_do_not_crash_pattern_checks() -> None:
    rules = compile_rules({"properties": {"p": {"pattern": "^a"}, "e": {"format": "email"}}})
    assert rules.violations({"p": "a\ud800"}) == []
    assert rules.violations({"p": "\ud800a"}) == [Violation("params.p", "must match pattern ^a")]
    assert rules.violations({"e": "\ud800@x.com"}) == []


def test_a_crashing_check_becomes_a_violation() -> None:
    rules = compile_rules({"properties": {"n": {"multipleOf": 0.5}}})
    found = rules.violations({"n": 10**400})
    assert len(found) == 1
    assert found[0].path == "params"
    assert found[0].message.startswith("cannot be validated")


# -- hashing -------------------------------------------------------------------------


def test_rules_hash_is_canonical() -> None:
    a = {"type": "object", "properties": {"x": {"type": "string"}, "y": {}}}
    b = {"properties": {"y": {}, "x": {"type": "string"}}, "type": "object"}
    assert canonical_rules_hash(a) == canonical_rules_hash(b) == compile_rules(b).rules_hash
    assert canonical_rules_hash(a) != canonical_rules_hash({**a, "required": ["x"]})
    assert len(canonical_rules_hash([])) == 64


def test_rules_hash_refuses_non_json() -> None:
    with pytest.raises(RulesError):
        canonical_rules_hash({"a": {1, 2}})


@settings(max_examples=300, database=None, deadline=None)
@given(
    st.sampled_from(CONTACT_FALLBACK_NAMES).flatmap(
        lambda name: st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
            lambda flips: "".join(
                c.upper() if f else c.lower() for c, f in zip(name, flips, strict=True)
            )
        )
    )
    | st.text(alphabet="emailEMAIL\u017fK\u0130\u212a\n ", max_size=12)
)
def test_fallback_name_lookup_answers_like_its_re2_pattern(name: str) -> None:
    assert _FallbackNames().search(name) == Re2Pattern(FALLBACK_NAMES_PATTERN).search(name)
