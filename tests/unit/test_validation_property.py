"""Property: for generated draft-07 schemas and data, ``violations(data) == []`` exactly
when ``jsonschema`` (the reference implementation) says the data is valid."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import jsonschema
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from eventgate.validation import RulesError, compile_rules

NAMES = st.sampled_from(["a", "b", "c", "ab", "ba", "abc"])
# Patterns whose meaning is the same for Python's re and RE2 on newline-free text.
PATTERNS = st.sampled_from(
    ["^a", "b$", "^[a-c]*$", "a|b", "^$", "[0-9]", "^(ab)*$", "c{2}", "^a.b"]
)
TEXT = st.text(alphabet="abc01 ", max_size=6)
NUMBERS = st.integers(-5, 5) | st.sampled_from([0.5, 1.0, 2.25, -1.5, 3.0])
TYPES = st.sampled_from(["null", "boolean", "object", "array", "number", "integer", "string"])

SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=12,
)

LEAF_KEYWORDS: dict[str, st.SearchStrategy[Any]] = {
    "type": TYPES | st.lists(TYPES, min_size=1, max_size=3, unique=True),
    "enum": st.lists(JSON, min_size=1, max_size=4),
    "const": JSON,
    "minimum": NUMBERS,
    "maximum": NUMBERS,
    "exclusiveMinimum": NUMBERS,
    "exclusiveMaximum": NUMBERS,
    "multipleOf": st.sampled_from([1, 2, 0.5, 0.25]),
    "minLength": st.integers(0, 4),
    "maxLength": st.integers(0, 4),
    "pattern": PATTERNS,
    "minItems": st.integers(0, 3),
    "maxItems": st.integers(0, 3),
    "uniqueItems": st.booleans(),
    "minProperties": st.integers(0, 3),
    "maxProperties": st.integers(0, 3),
    "required": st.lists(NAMES, max_size=3, unique=True),
    "title": st.just("annotation"),
    "default": JSON,
}


SUBSCHEMA_KEYWORDS = [
    "properties",
    "patternProperties",
    "additionalProperties",
    "items",
    "contains",
    "propertyNames",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "dependencies",
]
MAX_DEPTH = 3


@st.composite
def schemas(draw: st.DrawFn, depth: int = 0) -> Any:
    """A draft-07 schema: up to four keywords, subschemas up to ``MAX_DEPTH`` deep."""
    if depth and draw(st.integers(0, 7)) == 0:
        return draw(st.booleans())
    names = sorted(LEAF_KEYWORDS) + (SUBSCHEMA_KEYWORDS if depth < MAX_DEPTH else [])
    keywords = draw(st.lists(st.sampled_from(names), max_size=4, unique=True))
    child = schemas(depth + 1)
    schema: dict[str, Any] = {}
    for keyword in keywords:
        if keyword in LEAF_KEYWORDS:
            schema[keyword] = draw(LEAF_KEYWORDS[keyword])
        elif keyword == "properties":
            schema[keyword] = draw(st.dictionaries(NAMES, child, max_size=3))
        elif keyword == "patternProperties":
            schema[keyword] = draw(st.dictionaries(PATTERNS, child, max_size=2))
        elif keyword == "additionalProperties":
            schema[keyword] = draw(st.booleans() | child)
        elif keyword == "items":
            schema[keyword] = draw(child | st.lists(child, min_size=1, max_size=3))
            if isinstance(schema[keyword], list) and draw(st.booleans()):
                schema["additionalItems"] = draw(child)
        elif keyword == "propertyNames":
            schema[keyword] = draw(
                st.fixed_dictionaries({"pattern": PATTERNS}) | st.just({"maxLength": 1})
            )
        elif keyword in {"allOf", "anyOf", "oneOf"}:
            schema[keyword] = draw(st.lists(child, min_size=1, max_size=2))
        elif keyword == "dependencies":
            dependency = st.lists(NAMES, max_size=2, unique=True) | child
            schema[keyword] = draw(st.dictionaries(NAMES, dependency, max_size=2))
        elif keyword == "if":
            schema["if"] = draw(child)
            for branch in ("then", "else"):  # alone they are refused as ignored
                if draw(st.booleans()):
                    schema[branch] = draw(child)
        else:  # contains, not
            schema[keyword] = draw(child)
    return schema


@st.composite
def schema_and_data(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    schema = draw(schemas())
    data = draw(st.dictionaries(NAMES, JSON, max_size=5) | JSON)
    return schema, data


@settings(
    max_examples=600,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(schema_and_data())
def test_violations_agree_with_jsonschema(case: tuple[dict[str, Any], Any]) -> None:
    schema, data = case
    jsonschema.Draft7Validator.check_schema(schema)
    try:
        # The cost bound refuses unbounded arrays under combinators; semantics are the point.
        with patch("eventgate.validation.cost.MAX_CHECKS", 10**12):
            rules = compile_rules(schema)
    except RulesError as error:
        # fastjsonschema refuses a required name that additionalProperties: false forbids.
        assert "required but not allowed" in error.message
        assume(False)
        return
    expected = jsonschema.Draft7Validator(schema).is_valid(data)
    found = rules.violations(data)
    assert (found == []) == expected, (schema, data, found)
    assert all(v.path.startswith("params") and v.message for v in found)
