"""Static checks of untrusted JSON Schema rules, before fastjsonschema sees them.

What is refused, and why (SPEC §4, DESIGN-NOTES 6), each with a :class:`RulesError`
naming the problem and a JSON pointer to it:

* not JSON (non-string keys, NaN/Infinity, other Python objects), nesting deeper than
  :data:`MAX_DEPTH` containers, more than :data:`MAX_RULES_BYTES` of canonical JSON;
* a ``$schema`` other than draft-07 (absent is fine), ``$schema``/``$id`` below the root;
* **every keyword that is not a draft-07 keyword fastjsonschema enforces, or an
  annotation** (``title``, ``description``, ``$comment``, ``default``, ``examples``,
  ``readOnly``, ``writeOnly``). An allow-list rather than a list of known-ignored
  keywords: a typo (``"maxLenght"``) or a 2019-09/2020-12 keyword
  (``unevaluatedProperties``, ``dependentRequired``, ``$defs``...) would otherwise
  pass silently and validate nothing;
* keywords draft-07 itself ignores where they stand: siblings of ``$ref``,
  ``then``/``else`` without ``if``, ``additionalItems`` without an ``items`` array,
  ``contentEncoding``/``contentMediaType`` other than the ``base64`` and
  ``application/json`` that fastjsonschema checks, a ``format`` outside
  :data:`~eventgate.validation.formats.FORMAT_CHECKERS`;
* keyword values of the wrong shape (``"minLength": -1``, ``"required": "a"``...);
* a ``$ref`` that is not a local JSON pointer (``#`` or ``#/...``) to a subschema checked
  here: remote ``http(s)``, ``file:``, relative URIs and plain-name fragments all go;
* ``$ref`` loops that never descend into the data (infinite recursion at validation
  time), and ``$ref`` graphs that expand to more than :data:`MAX_EXPANDED_SUBSCHEMAS`
  subschemas (``anyOf`` over shared definitions grows exponentially at run time);
* a ``pattern`` or ``patternProperties`` key that google-re2 cannot compile;
* rules whose worst-case validation of one event costs more than
  :data:`~eventgate.validation.cost.MAX_CHECKS` subschema checks (combinator fan-out
  times the array items it applies to; see :mod:`eventgate.validation.cost`).
"""

from __future__ import annotations

import json
import math
from typing import Any

from eventgate.validation.cost import check_cost
from eventgate.validation.errors import RulesError
from eventgate.validation.facts import Pointer, SchemaFacts, pointer_text
from eventgate.validation.formats import FORMAT_CHECKERS, Re2Pattern, RegexSyntaxError
from eventgate.validation.refs import check_ref_graph, resolve_refs

MAX_RULES_BYTES = 64 * 1024
"""Largest canonical JSON (UTF-8 bytes) of a rules value."""
MAX_DEPTH = 32
"""Deepest nesting of JSON containers in a rules value (``{}`` is depth 1), as SPEC §2."""

DRAFT07_URIS = frozenset(
    {
        "http://json-schema.org/draft-07/schema#",
        "http://json-schema.org/draft-07/schema",
        "https://json-schema.org/draft-07/schema#",
        "https://json-schema.org/draft-07/schema",
    }
)
TYPE_NAMES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})
ANNOTATIONS = frozenset(
    {"title", "description", "$comment", "default", "examples", "readOnly", "writeOnly"}
)
_LATER_DRAFTS = frozenset(
    {
        "$defs",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
        "$vocabulary",
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentRequired",
        "dependentSchemas",
        "prefixItems",
        "minContains",
        "maxContains",
        "contentSchema",
        "deprecated",
    }
)
# Keywords that apply a subschema to the same instance (no descent into the data).
_IN_PLACE = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependencies"})


def canonical_json(rules: Any, check: bool = True) -> str:
    """The canonical JSON of ``rules`` (sorted keys, no spaces); raises :class:`RulesError`.

    With ``check``, first makes sure ``rules`` is plain JSON no deeper than
    :data:`MAX_DEPTH` (a Python walk, several times the cost of the dump itself)."""
    if check:
        _check_plain_json(rules, (), 1)
    try:
        return json.dumps(
            rules, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. a 4301-digit integer
        raise RulesError(f"rules are not representable as JSON: {exc}") from None


def _check_plain_json(value: Any, at: Pointer, depth: int) -> None:
    if isinstance(value, dict | list):
        if depth > MAX_DEPTH:
            raise RulesError(f"rules nest deeper than {MAX_DEPTH} levels", pointer_text(at))
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise RulesError("object keys must be strings", pointer_text(at))
                _check_plain_json(item, (*at, key), depth + 1)
        else:
            for index, item in enumerate(value):
                _check_plain_json(item, (*at, str(index)), depth + 1)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise RulesError("NaN and Infinity are not JSON", pointer_text(at))
    elif not (value is None or isinstance(value, str | int)):
        raise RulesError(f"{type(value).__name__} is not a JSON value", pointer_text(at))


def check_schema(schema: Any) -> SchemaFacts:
    """Check a draft-07 schema given as plain JSON (see the module docstring)."""
    if not isinstance(schema, dict):
        raise RulesError("rules must be a list (simple form) or a JSON Schema object")
    facts = SchemaFacts()
    _Walker(facts).schema(schema, ())
    resolve_refs(schema, facts)
    check_ref_graph(facts)
    check_cost(schema, facts)
    return facts


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_unique_strings(value: Any) -> bool:
    return (
        isinstance(value, list)
        and all(isinstance(item, str) for item in value)
        and len(set(value)) == len(value)
    )


_NUMBERS = frozenset({"maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"})
_COUNTS = frozenset(
    {"maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties"}
)
_SUBSCHEMA = frozenset(
    {"not", "if", "then", "else", "contains", "propertyNames"}
    | {"additionalProperties", "additionalItems"}
)
_SCHEMA_MAPS = frozenset({"properties", "definitions", "patternProperties"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_OTHER = frozenset(
    {"type", "enum", "const", "multipleOf", "pattern", "format", "uniqueItems", "required"}
    | {"items", "dependencies", "$ref", "contentEncoding", "contentMediaType"}
)
KEYWORDS = _NUMBERS | _COUNTS | _SUBSCHEMA | _SCHEMA_MAPS | _SCHEMA_LISTS | _OTHER


class _Walker:
    def __init__(self, facts: SchemaFacts) -> None:
        self.facts = facts

    def schema(self, node: Any, at: Pointer) -> None:
        self.facts.positions.add(at)
        self.facts.edges[at] = []
        if isinstance(node, bool):
            return
        if not isinstance(node, dict):
            raise RulesError("a schema must be an object or a boolean", pointer_text(at))
        for key, value in node.items():
            self.keyword(node, key, value, at)
        self._check_ignored(node, at)

    def _child(self, parent: Pointer, child: Pointer, node: Any, keyword: str) -> None:
        self.schema(node, child)
        if keyword != "definitions":  # a store for $ref, applied only through it
            self.facts.edges[parent].append((child, keyword not in _IN_PLACE))

    def keyword(self, node: dict[str, Any], key: str, value: Any, at: Pointer) -> None:
        here = (*at, key)
        where = pointer_text(here)
        if key in ANNOTATIONS:
            if key in {"title", "description", "$comment"} and not isinstance(value, str):
                raise RulesError(f"{key} must be a string", where)
            if key in {"readOnly", "writeOnly"} and not isinstance(value, bool):
                raise RulesError(f"{key} must be a boolean", where)
            if key == "examples" and not isinstance(value, list):
                raise RulesError("examples must be an array", where)
        elif key in {"$schema", "$id"}:
            if at:
                raise RulesError(f"{key} is only allowed at the root of the rules", where)
            if key == "$schema" and value not in DRAFT07_URIS:
                raise RulesError(
                    f"$schema {value!r} is not supported: only JSON Schema draft-07", where
                )
            if key == "$id" and not isinstance(value, str):
                raise RulesError("$id must be a string", where)
        elif key in _LATER_DRAFTS:
            raise RulesError(
                f"keyword {key!r} is not draft-07 (2019-09/2020-12): it would be ignored", where
            )
        elif key not in KEYWORDS:
            raise RulesError(f"unknown keyword {key!r}: it would be ignored", where)
        elif key in _NUMBERS:
            if not _is_number(value):
                raise RulesError(f"{key} must be a number", where)
        elif key in _COUNTS:
            if not _is_count(value):
                raise RulesError(f"{key} must be a non-negative integer", where)
        elif key in _SUBSCHEMA:
            self._child(at, here, value, key)
        elif key in _SCHEMA_MAPS:
            if not isinstance(value, dict):
                raise RulesError(f"{key} must be an object of schemas", where)
            for name, sub in value.items():
                if key == "patternProperties":
                    self.pattern(name, here)
                self._child(at, (*here, name), sub, key)
        elif key in _SCHEMA_LISTS:
            if not isinstance(value, list) or not value:
                raise RulesError(f"{key} must be a non-empty array of schemas", where)
            for index, sub in enumerate(value):
                self._child(at, (*here, str(index)), sub, key)
        else:
            self.other(key, value, at)

    def other(self, key: str, value: Any, at: Pointer) -> None:
        here = (*at, key)
        where = pointer_text(here)
        if key == "type":
            names = value if isinstance(value, list) else [value]
            if (
                not names
                or not all(isinstance(n, str) and n in TYPE_NAMES for n in names)
                or len(set(names)) != len(names)
            ):
                raise RulesError(f"type must be one of {sorted(TYPE_NAMES)} or a list", where)
        elif key == "enum":
            if not isinstance(value, list):
                raise RulesError("enum must be an array", where)
        elif key == "multipleOf":
            if not _is_number(value) or value <= 0:
                raise RulesError("multipleOf must be a number above 0", where)
        elif key == "pattern":
            if not isinstance(value, str):
                raise RulesError("pattern must be a string", where)
            self.pattern(value, here)
        elif key == "format":
            if value not in FORMAT_CHECKERS:
                raise RulesError(
                    f"format {value!r} is not supported (would be ignored); "
                    f"supported: {', '.join(sorted(FORMAT_CHECKERS))}",
                    where,
                )
        elif key == "uniqueItems":
            if not isinstance(value, bool):
                raise RulesError("uniqueItems must be a boolean", where)
        elif key == "required":
            if not _is_unique_strings(value):
                raise RulesError("required must be an array of distinct strings", where)
        elif key == "items":
            if value == []:
                raise RulesError("items must be a schema or a non-empty array of schemas", where)
            if isinstance(value, list):
                for index, sub in enumerate(value):
                    self._child(at, (*here, str(index)), sub, key)
            else:
                self._child(at, here, value, key)
        elif key == "dependencies":
            if not isinstance(value, dict):
                raise RulesError("dependencies must be an object", where)
            for name, dep in value.items():
                if isinstance(dep, list):
                    if not _is_unique_strings(dep):
                        raise RulesError(
                            "a dependency must be a schema or distinct strings",
                            pointer_text((*here, name)),
                        )
                else:
                    self._child(at, (*here, name), dep, key)
        elif key == "$ref":
            if not isinstance(value, str):
                raise RulesError("$ref must be a string", where)
            self.facts.refs.append((value, at))
        elif key == "contentEncoding" and value != "base64":
            raise RulesError("contentEncoding other than 'base64' would be ignored", where)
        elif key == "contentMediaType" and value != "application/json":
            raise RulesError(
                "contentMediaType other than 'application/json' would be ignored", where
            )

    def pattern(self, pattern: str, at: Pointer) -> None:
        if pattern in self.facts.patterns:
            return
        try:
            self.facts.patterns[pattern] = Re2Pattern(pattern)
        except RegexSyntaxError as exc:
            raise RulesError(
                f"pattern {pattern!r} cannot be compiled by RE2: {exc}", pointer_text(at)
            ) from None

    @staticmethod
    def _check_ignored(node: dict[str, Any], at: Pointer) -> None:
        if "$ref" in node:
            ignored = sorted(set(node) - ANNOTATIONS - {"$ref", "definitions", "$schema", "$id"})
            if ignored:
                raise RulesError(
                    f"keywords beside $ref are ignored in draft-07: {', '.join(ignored)}; "
                    'combine them with {"allOf": [{"$ref": ...}, {...}]}',
                    pointer_text(at),
                )
        for keyword in ("then", "else"):
            if keyword in node and "if" not in node:
                raise RulesError(f"{keyword} without if would be ignored", pointer_text(at))
        if "additionalItems" in node and not isinstance(node.get("items"), list):
            raise RulesError(
                "additionalItems without an items array would be ignored", pointer_text(at)
            )
