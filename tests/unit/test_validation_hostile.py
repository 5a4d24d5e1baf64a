"""Every hostile or silently-ignored rule of SPEC §4 is refused with a RulesError that
names the problem (and says where), never another exception."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import fastjsonschema
import pytest

from eventgate.validation import RulesError, compile_rules
from eventgate.validation.checks import MAX_DEPTH, MAX_RULES_BYTES
from eventgate.validation.rules import _HANDLERS


def refused(rules: Any) -> RulesError:
    with pytest.raises(RulesError) as caught:
        compile_rules(rules)
    return caught.value


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []

    def urlopen(url: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(url))
        raise AssertionError(f"tried to fetch {url}")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return opened


# -- $schema -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2019-09/schema",
        "http://json-schema.org/draft-04/schema#",
        "http://json-schema.org/draft-06/schema#",
        "http://evil.example/draft-07/schema#",
        7,
    ],
)
def test_other_schema_dialects_are_refused(uri: Any) -> None:
    error = refused({"$schema": uri, "type": "object"})
    assert "$schema" in error.message
    assert "draft-07" in error.message
    assert error.path == "/$schema"


@pytest.mark.parametrize(
    "uri", ["http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft-07/schema"]
)
def test_draft07_and_absent_schema_are_accepted(uri: str) -> None:
    compile_rules({"$schema": uri, "type": "object"})
    compile_rules({"type": "object"})


def test_nested_schema_or_id_is_refused() -> None:
    assert "only allowed at the root" in refused({"properties": {"a": {"$id": "x"}}}).message
    error = refused({"properties": {"a": {"$schema": "http://json-schema.org/draft-07/schema#"}}})
    assert error.path == "/properties/a/$schema"


# -- keywords fastjsonschema would ignore ---------------------------------------------


@pytest.mark.parametrize(
    "keyword",
    [
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentRequired",
        "dependentSchemas",
        "$defs",
        "prefixItems",
        "minContains",
        "maxContains",
        "$anchor",
        "$dynamicRef",
        "$recursiveRef",
        "deprecated",
    ],
)
def test_later_draft_keywords_are_refused(keyword: str) -> None:
    error = refused({"properties": {"a": {keyword: False}}})
    assert repr(keyword) in error.message
    assert "draft-07" in error.message
    assert error.path == f"/properties/a/{keyword}"


@pytest.mark.parametrize("keyword", ["maxLenght", "id", "nullable", "x-extension", "discriminator"])
def test_unknown_keywords_are_refused(keyword: str) -> None:
    error = refused({keyword: 1})
    assert f"unknown keyword {keyword!r}" in error.message


def test_annotations_are_allowed() -> None:
    rules = compile_rules(
        {
            "title": "t",
            "description": "d",
            "$comment": "c",
            "examples": [{"a": 1}],
            "default": {"a": 1},
            "properties": {"a": {"readOnly": True, "writeOnly": False, "default": 3}},
        }
    )
    assert rules.violations({}) == []


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ({"$ref": "#/definitions/a", "definitions": {"a": {}}, "maxLength": 2}, "beside $ref"),
        ({"then": {"type": "string"}}, "then without if"),
        ({"else": {"type": "string"}}, "else without if"),
        ({"items": {}, "additionalItems": False}, "additionalItems without an items array"),
        ({"contentEncoding": "quoted-printable"}, "contentEncoding"),
        ({"contentMediaType": "text/html"}, "contentMediaType"),
        ({"format": "uuid"}, "format 'uuid' is not supported"),
        ({"format": "idn-email"}, "format 'idn-email' is not supported"),
    ],
)
def test_keywords_ignored_where_they_stand_are_refused(schema: Any, words: str) -> None:
    assert words in refused(schema).message


def test_ref_with_definitions_beside_it_is_fine() -> None:
    rules = compile_rules({"$ref": "#/definitions/a", "definitions": {"a": {"type": "object"}}})
    assert rules.violations({}) == []
    assert rules.violations([]) != []  # type: ignore[arg-type]


# -- $ref that leaves the schema -----------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        "http://example.com/schema.json",
        "https://example.com/schema.json#/definitions/a",
        "file:///etc/passwd",
        "//example.com/x",
        "other.json",
        "/etc/passwd",
        "urn:uuid:0000",
    ],
)
def test_remote_refs_are_refused_without_fetching(ref: str, no_network: list[str]) -> None:
    error = refused({"properties": {"a": {"$ref": ref}}})
    assert "leaves the schema" in error.message
    assert ref in error.message
    assert error.path == "/properties/a/$ref"
    assert no_network == []


def test_a_root_id_does_not_turn_local_refs_remote(no_network: list[str]) -> None:
    rules = compile_rules(
        {
            "$id": "http://example.com/root.json",
            "definitions": {"s": {"type": "string"}},
            "properties": {"a": {"$ref": "#/definitions/s"}},
        }
    )
    assert rules.violations({"a": 1}) != []
    assert no_network == []


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("#foo", "only JSON pointers"),
        ("#/definitions/missing", "does not point to a subschema"),
        ("#/properties/a/const", "does not point to a subschema"),
        ("#/properties/a/const/x", "does not point to a subschema"),
        ("#/allOf/01", "does not point to a subschema"),
        ("#/", "empty pointer segments"),
        ("#//allOf", "empty pointer segments"),
    ],
)
def test_local_refs_must_point_to_checked_subschemas(ref: str, words: str) -> None:
    schema = {"allOf": [{}, {}], "properties": {"a": {"const": {"x": {"pattern": "(?=a)"}}}}}
    assert (
        words
        in refused({**schema, "properties": {**schema["properties"], "b": {"$ref": ref}}}).message
    )


def test_fetch_handlers_refuse_every_scheme_as_defence_in_depth(no_network: list[str]) -> None:
    for uri in ("http://example.com/s.json", "file:///etc/passwd", "ftp://x/y", "gopher://x"):
        with pytest.raises(RulesError, match="fetching is disabled"):
            fastjsonschema.compile({"$ref": uri}, handlers=_HANDLERS)
    assert no_network == []


# -- size and depth ------------------------------------------------------------------


def test_rules_over_64_kib_are_refused() -> None:
    big = {"properties": {f"p{i}": {"type": "string", "maxLength": i} for i in range(3000)}}
    assert len(json.dumps(big)) > MAX_RULES_BYTES
    assert "larger than 64 KiB" in refused(big).message
    simple = [{"name": f"param{i:06d}", "required": False} for i in range(2000)]
    assert "larger than 64 KiB" in refused(simple).message


def nested(levels: int) -> dict[str, Any]:
    """A schema whose JSON nests ``levels`` containers deep."""
    schema: dict[str, Any] = {}
    depth = 1
    while depth + 2 <= levels:
        schema = {"properties": {"a": schema}}
        depth += 2
    return {"not": schema} if depth + 1 == levels else schema


def test_nesting_deeper_than_32_is_refused() -> None:
    compile_rules(nested(MAX_DEPTH))
    error = refused(nested(MAX_DEPTH + 1))
    assert "deeper than 32" in error.message
    very_deep: Any = {}
    for _ in range(100_000):  # no RecursionError either
        very_deep = {"not": very_deep}
    assert "deeper than 32" in refused(very_deep).message


def array_schema(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"items": schema}
    return schema


def test_nesting_python_cannot_compile_is_refused_cleanly() -> None:
    # 31 nested ``for`` loops pass the JSON depth limit but not CPython's block limit.
    error = refused(array_schema(MAX_DEPTH - 1))
    assert "too deeply nested" in error.message
    rules = compile_rules(array_schema(15))
    assert rules.violations([[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]) == []  # type: ignore[arg-type]


# -- regular expressions -------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern", ["(?=a)b", "(?!a)b", "(?<=a)b", "(a)\\1", "(?P<n>a)(?P=n)", "a{1001}", "[z-a]", "("]
)
def test_patterns_re2_cannot_compile_are_refused(pattern: str) -> None:
    error = refused({"properties": {"a": {"pattern": pattern}}})
    assert "cannot be compiled by RE2" in error.message
    assert repr(pattern) in error.message
    assert error.path == "/properties/a/pattern"
    error = refused({"patternProperties": {pattern: {}}})
    assert "cannot be compiled by RE2" in error.message
    assert error.path == "/patternProperties"


def test_patterns_python_dislikes_but_re2_accepts_are_fine() -> None:
    # ``[$]``: fastjsonschema's "$ -> \\Z" rewrite makes Python's re raise on it.
    rules = compile_rules({"properties": {"p": {"pattern": "^[$]\\pL+$"}}})
    assert rules.violations({"p": "$é"}) == []
    assert rules.violations({"p": "é"}) != []


# -- malformed schemas ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ({"type": "strnig"}, "type must be one of"),
        ({"type": ["string", "string"]}, "type must be one of"),
        ({"type": []}, "type must be one of"),
        ({"minLength": -1}, "minLength must be a non-negative integer"),
        ({"maxItems": 1.5}, "maxItems must be a non-negative integer"),
        ({"minimum": "1"}, "minimum must be a number"),
        ({"exclusiveMinimum": True}, "exclusiveMinimum must be a number"),
        ({"multipleOf": 0}, "multipleOf must be a number above 0"),
        ({"required": "a"}, "required must be an array of distinct strings"),
        ({"required": ["a", "a"]}, "required must be an array of distinct strings"),
        ({"properties": []}, "properties must be an object of schemas"),
        ({"properties": {"a": 3}}, "a schema must be an object or a boolean"),
        ({"items": 3}, "a schema must be an object or a boolean"),
        ({"enum": 3}, "enum must be an array"),
        ({"anyOf": []}, "anyOf must be a non-empty array of schemas"),
        ({"pattern": 5}, "pattern must be a string"),
        ({"dependencies": {"a": [1]}}, "a dependency must be a schema or distinct strings"),
        ({"$ref": 5}, "$ref must be a string"),
        ({"uniqueItems": "yes"}, "uniqueItems must be a boolean"),
        ({"title": 5}, "title must be a string"),
        (
            {"properties": {"a": {}}, "required": ["b"], "additionalProperties": False},
            "required but not allowed",
        ),
    ],
)
def test_malformed_schemas_are_refused(schema: Any, words: str) -> None:
    assert words in refused(schema).message


@pytest.mark.parametrize(
    "rules",
    [
        "object",
        3,
        None,
        True,
        {"a": {1, 2}},
        {"minimum": float("nan")},
        {"maximum": float("inf")},
        {1: {}},
        {"enum": [b"bytes"]},
        {"minimum": 10**5000},
    ],
)
def test_values_that_are_not_json_rules_are_refused(rules: Any) -> None:
    refused(rules)


# -- $ref graphs that would hang a processor -------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"definitions": {"a": {"$ref": "#/definitions/a"}}, "$ref": "#/definitions/a"},
        {
            "definitions": {
                "a": {"allOf": [{"$ref": "#/definitions/b"}]},
                "b": {"not": {"$ref": "#/definitions/a"}},
            }
        },
        {"anyOf": [{"if": {"$ref": "#"}}]},
        {"dependencies": {"x": {"$ref": "#"}}},
    ],
)
def test_ref_cycles_that_never_descend_into_the_data_are_refused(schema: Any) -> None:
    assert "$ref cycle" in refused(schema).message


def test_exponential_ref_expansion_is_refused() -> None:
    definitions: dict[str, Any] = {"d30": {"type": "string"}}
    for level in range(29, -1, -1):
        nxt = {"$ref": f"#/definitions/d{level + 1}"}
        definitions[f"d{level}"] = {"anyOf": [{"allOf": [nxt, {"maxLength": 0}]}, nxt]}
    error = refused({"definitions": definitions, "properties": {"s": {"$ref": "#/definitions/d0"}}})
    assert "expands the schema to more than" in error.message


def test_long_ref_chains_do_not_exhaust_the_stack() -> None:
    definitions = {f"d{i}": {"$ref": f"#/definitions/d{i + 1}"} for i in range(1500)}
    definitions["d1500"] = {"type": "string"}
    rules = compile_rules(
        {"definitions": definitions, "properties": {"s": {"$ref": "#/definitions/d0"}}}
    )
    assert rules.violations({"s": 1}) != []
