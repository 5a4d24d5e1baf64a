"""Compile untrusted validation rules (SPEC §4) into fast, safe checkers of event params.

Two forms of rules, one code path: the simple form ``[{name, required, type?}]`` is
translated into a draft-07 schema (a closed set: ``additionalProperties: false``, with
the contact fallback names of SPEC §2 let through by an ASCII case-insensitive
``patternProperties``), then both forms go through the same checks, compilation and
reporting.

How a schema becomes a validator:

1. :mod:`~eventgate.validation.checks` refuses what is hostile or would be ignored.
2. fastjsonschema compiles a *copy* in which every user pattern is replaced by a
   placeholder Python can compile and match trivially (``(?#eventgate-N)``), so Python's
   backtracking ``re`` never compiles nor runs a user pattern, not even fastjsonschema's
   compile-time ``re.search`` of ``required`` names. After compilation the generated
   code's ``REGEX_PATTERNS`` dict is filled with RE2 objects for the originals (any entry
   that is not one of our placeholders is refused: defence in depth). Formats are our
   RE2/stdlib checkers (:mod:`~eventgate.validation.formats`). ``$ref`` fetching goes
   through handlers that refuse every URI scheme, though checks already allow only
   local pointers. ``use_default=False``: the event is never written to.
3. Two validators: a fast one (``fast_fail=True``) that decides
   valid/invalid, and, compiled lazily the first time an event fails, a detailed one
   (``fast_fail=False``, supported by the installed fastjsonschema 2.22, stopped after
   :data:`~eventgate.validation.capped.MAX_ERRORS` errors) whose collected
   errors become :class:`~eventgate.ingest.reasons.Violation` s. The valid path costs one
   call of generated code. ``anyOf``/``oneOf``/``not``/``if`` report one violation for the
   combinator (their branches are trials); ``required`` and a closed
   ``additionalProperties`` are split into one violation per parameter.

A validator that crashes on some value (e.g. ``multipleOf`` of a 400-digit integer
overflows a float) reports a violation instead of raising: bad input never crashes a
processor.

Figures (``.venv/bin/python bench/validation_micro.py``; 2 cores shared with other
work, load average ~3, so read them as orders of magnitude): a 17-property schema
(patterns, formats, enums, numbers, an array of objects) compiles in ~5-7 ms (the
detailed validator adds ~5-15 ms on the first invalid event); valid params ~60,000
checks/s (~15 µs; plain fastjsonschema with Python ``re`` and none of these guards does
~2x that on the same params: the RE2 calls, ~1 µs each, make the difference); invalid
params with 4 violations ~20,000/s; the 17-param simple form ~200,000 valid checks/s;
``canonical_rules_hash`` ~19 µs. ``^(a+)+$`` against 30 ``a`` and ``!`` takes ~10 µs
with the full report (Python ``re``: 145 ms at 22 characters, doubling with each).
Worst cases measured: a 64 KiB schema of 1,500 patterned properties compiles in ~0.9 s
(+0.6 s for the detailed validator); run time is O(schema x data), e.g. a 600-branch
``anyOf`` over 3,000 invalid array items took 9 s: :mod:`~eventgate.validation.cost`
bounds that product at compile time (``docs/registry.md`` has the measured worst case).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

import fastjsonschema

from eventgate.ingest.reasons import Violation
from eventgate.validation.capped import TooManyErrors, compile_capped
from eventgate.validation.checks import MAX_RULES_BYTES, canonical_json, check_schema
from eventgate.validation.errors import RulesError
from eventgate.validation.facts import Pointer, SchemaFacts
from eventgate.validation.formats import FORMAT_CHECKERS, Re2Pattern

CONTACT_FALLBACK_NAMES = ("contactId", "externalCustomerId", "email", "phone", "pushToken")
SIMPLE_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array"})
DRAFT07 = "http://json-schema.org/draft-07/schema#"
ROOT = "params"
REF_STORE = "eventgate-ref-targets"
_SINGLE_SUBSCHEMA = frozenset(
    {"not", "if", "then", "else", "contains", "propertyNames", "items"}
    | {"additionalItems", "additionalProperties"}
)


def _ascii_case_insensitive(name: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in name)


FALLBACK_NAMES_PATTERN = (
    "^(?:" + "|".join(_ascii_case_insensitive(n) for n in CONTACT_FALLBACK_NAMES) + ")$"
)
"""Matches the contact fallback names, case-insensitively in ASCII (``EMAIL``, ``PushToken``)."""


class _FallbackNames:
    """:data:`FALLBACK_NAMES_PATTERN` as a set lookup: the simple form runs it on every
    param name, and a lookup is several times cheaper than an RE2 call. Same answers."""

    __slots__ = ()
    pattern = FALLBACK_NAMES_PATTERN
    _NAMES = frozenset(name.lower() for name in CONTACT_FALLBACK_NAMES)

    def search(self, text: str) -> bool:
        return text.isascii() and text.lower() in self._NAMES


def canonical_rules_hash(rules: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``rules``: sorted keys, no white space, so
    objects that differ only in key order hash alike. Raises :class:`RulesError` for
    values JSON cannot represent (the full checks run in :func:`compile_rules`)."""
    return hashlib.sha256(canonical_json(rules, check=False).encode()).hexdigest()


def simple_form_schema(rules: list[Any]) -> dict[str, Any]:
    """The draft-07 schema of the simple form ``[{name, required, type?}]``."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for index, rule in enumerate(rules):
        at = f"/{index}"
        if not isinstance(rule, dict):
            raise RulesError("a simple-form rule must be an object {name, required, type?}", at)
        for key in rule:
            if key not in {"name", "required", "type"}:
                raise RulesError(f"unknown field {key!r} in a simple-form rule", f"{at}/{key}")
        name = rule.get("name")
        if not isinstance(name, str) or not name:
            raise RulesError("name must be a non-empty string", f"{at}/name")
        if name in properties:
            raise RulesError(f"parameter {name!r} is listed twice", f"{at}/name")
        if not isinstance(rule.get("required"), bool):
            raise RulesError("required must be true or false", f"{at}/required")
        type_ = rule.get("type")
        if type_ is not None and type_ not in SIMPLE_TYPES:
            raise RulesError(f"type must be one of {', '.join(sorted(SIMPLE_TYPES))}", f"{at}/type")
        properties[name] = {"type": type_} if type_ is not None else {}
        if rule["required"]:
            required.append(name)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "patternProperties": {FALLBACK_NAMES_PATTERN: {}},
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def compile_rules(rules: Any) -> CompiledRules:
    """Check and compile ``rules`` (the ``rules`` of ``{"enabled", "rules"}``); raises
    :class:`RulesError` naming the problem, never anything else."""
    text = canonical_json(rules)
    if len(text.encode()) > MAX_RULES_BYTES:
        raise RulesError(f"rules are larger than {MAX_RULES_BYTES // 1024} KiB")
    rules_hash = hashlib.sha256(text.encode()).hexdigest()
    if isinstance(rules, list):
        schema = simple_form_schema(rules)
    elif isinstance(rules, dict):
        schema = rules
    else:
        raise RulesError("rules must be a list (simple form) or a JSON Schema object")
    facts = check_schema(schema)
    return CompiledRules(rules_hash, schema, facts)


class _RefuseFetching(Mapping[str, Callable[[str], Any]]):
    """fastjsonschema ``handlers`` claiming every URI scheme, each refusing to fetch
    (without a handler for a scheme, fastjsonschema would ``urlopen`` the URI)."""

    def __contains__(self, scheme: object) -> bool:
        return True

    def __getitem__(self, scheme: str) -> Callable[[str], Any]:
        return _refuse

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _refuse(uri: str) -> NoReturn:
    raise RulesError(f"$ref {uri!r} leaves the schema: fetching is disabled")


_HANDLERS = _RefuseFetching()


class CompiledRules:
    """Validation rules ready to check params; immutable once built."""

    __slots__ = (
        "_aliases",
        "_detailed",
        "_fast",
        "_placeholder_of",
        "_placeholders",
        "_ref_store",
        "_ref_targets",
        "_regexes",
        "_source",
        "rules_hash",
    )

    def __init__(self, rules_hash: str, schema: dict[str, Any], facts: SchemaFacts) -> None:
        self.rules_hash = rules_hash
        self._placeholders: dict[str, str] = {}  # placeholder -> original pattern
        self._regexes: dict[str, Re2Pattern | _FallbackNames] = {}  # placeholder -> RE2
        for number, (pattern, compiled) in enumerate(facts.patterns.items()):
            placeholder = f"(?#eventgate-{number})"
            self._placeholders[placeholder] = pattern
            fallback = pattern == FALLBACK_NAMES_PATTERN
            self._regexes[placeholder] = _FallbackNames() if fallback else compiled
        self._placeholder_of = {v: k for k, v in self._placeholders.items()}
        self._ref_targets = facts.ref_targets
        targets = sorted({t for t in facts.ref_targets.values() if t})
        self._aliases = {target: f"r{n}" for n, target in enumerate(targets)}
        self._ref_store: dict[str, Any] = {}
        self._source = self._prepare(schema, ())
        self._fast = self._compile(detailed=False)
        self._detailed: Callable[[Any], Any] | None = None

    def violations(self, params: dict[str, Any]) -> list[Violation]:
        """Every violation of the rules by ``params`` (``[]`` when valid)."""
        try:
            self._fast(params)
        except fastjsonschema.JsonSchemaException:
            pass
        except Exception as exc:  # noqa: BLE001  (untrusted rules x untrusted data)
            return [Violation(ROOT, f"cannot be validated: {type(exc).__name__}")]
        else:
            return []
        return self._explain(params)

    def is_valid(self, params: dict[str, Any]) -> bool:
        return not self.violations(params)

    # -- compilation ----------------------------------------------------------------

    def _prepare(self, node: Any, at: Pointer) -> Any:
        """The copy fastjsonschema compiles (see the module docstring): placeholders for
        patterns, ``$id`` dropped, and every ``$ref`` target moved to ``REF_STORE/rN``
        with a ``$ref`` left in its place. fastjsonschema names the function of a target
        after its pointer with non-alphanumerics folded to ``_`` and lower-cased, so
        ``#/definitions/a-b`` and ``#/definitions/A_b`` would share one function."""
        if at and at in self._aliases:
            alias = self._aliases[at]
            if alias not in self._ref_store:
                self._ref_store[alias] = None  # reserve: a target may contain itself
                self._ref_store[alias] = self._prepare_schema(node, at)
            return {"$ref": f"#/{REF_STORE}/{alias}"}
        return self._prepare_schema(node, at)

    def _prepare_schema(self, node: Any, at: Pointer) -> Any:
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            here = (*at, key)
            if key == "pattern":
                out[key] = self._placeholder_of[value]
            elif key == "$ref":
                target = self._ref_targets[value]
                out[key] = f"#/{REF_STORE}/{self._aliases[target]}" if target else "#"
            elif key in {"properties", "definitions", "patternProperties"} or (
                key == "dependencies" and isinstance(value, dict)
            ):
                rename = self._placeholder_of if key == "patternProperties" else {}
                out[key] = {
                    rename.get(k, k): (
                        list(s) if isinstance(s, list) else self._prepare(s, (*here, k))
                    )
                    for k, s in value.items()
                }
            elif key in {"allOf", "anyOf", "oneOf"} or (key == "items" and isinstance(value, list)):
                out[key] = [self._prepare(s, (*here, str(i))) for i, s in enumerate(value)]
            elif key in _SINGLE_SUBSCHEMA:
                # ``{}`` allows everything; fastjsonschema's required-check reads it as false.
                empty = key == "additionalProperties" and value == {}
                out[key] = True if empty else self._prepare(value, here)
            elif key != "$id":  # only local references exist: the base URI is irrelevant
                out[key] = copy.deepcopy(value)
        if not at:
            out["$schema"] = DRAFT07
            out[REF_STORE] = self._ref_store  # an unknown keyword to fastjsonschema's code
        return out

    def _compile(self, detailed: bool) -> Callable[[Any], Any]:
        source = copy.deepcopy(self._source)  # fastjsonschema's resolver rewrites $ref in place
        try:
            if detailed:
                validator = compile_capped(source, _HANDLERS, FORMAT_CHECKERS)
            else:
                validator = fastjsonschema.compile(
                    source,
                    handlers=_HANDLERS,
                    formats=FORMAT_CHECKERS,
                    use_default=False,
                    use_formats=True,
                    # Detailed exceptions cost nothing on the valid path, and without them
                    # fastjsonschema 2.22 cannot generate ``const`` (KeyError 'definition_rule').
                    detailed_exceptions=True,
                    fast_fail=True,
                )
        except RulesError:
            raise
        except fastjsonschema.JsonSchemaDefinitionException as exc:
            raise RulesError(f"invalid schema: {exc}") from None
        except (SyntaxError, RecursionError, MemoryError):
            raise RulesError("the schema is too deeply nested or too large to compile") from None
        except Exception as exc:  # noqa: BLE001  (a code generator fed untrusted input)
            raise RulesError(f"invalid schema: {type(exc).__name__}: {exc}") from None
        function = getattr(validator, "func", validator)  # compile() returns a partial
        patterns: dict[str, Any] = function.__globals__["REGEX_PATTERNS"]
        for key in list(patterns):
            if key not in self._regexes:
                raise RulesError(f"pattern {key!r} escaped the RE2 substitution")
            patterns[key] = self._regexes[key]
        return validator

    # -- reporting ------------------------------------------------------------------

    def _explain(self, params: Any) -> list[Violation]:
        if self._detailed is None:
            try:
                self._detailed = self._compile(detailed=True)
            except RulesError:
                return [Violation(ROOT, "does not match the validation rules")]
        try:
            self._detailed(params)
        except fastjsonschema.JsonSchemaValuesException as exc:
            errors: list[Any] = list(exc.errors)
        except fastjsonschema.JsonSchemaValueException as exc:
            errors = [exc]
        except TooManyErrors as exc:
            errors = exc.errors
        except Exception as exc:  # noqa: BLE001
            return [Violation(ROOT, f"cannot be validated: {type(exc).__name__}")]
        else:
            errors = []
        found: dict[Violation, None] = {}
        for error in errors:
            for violation in self._convert(error):
                found[violation] = None
        return list(found) or [Violation(ROOT, "does not match the validation rules")]

    def _convert(self, error: Any) -> list[Violation]:
        name = error.name or "data"
        path = ROOT + name[len("data") :] if name.startswith("data") else ROOT
        message: str = error.message
        if message.startswith(name + " "):
            message = message[len(name) + 1 :]
        definition = error.definition if isinstance(error.definition, dict) else {}
        value = error.value
        if error.rule == "required" and isinstance(value, dict):
            missing = [key for key in definition.get("required", ()) if key not in value]
            return [Violation(f"{path}.{key}", "required parameter is missing") for key in missing]
        if (
            error.rule == "additionalProperties"
            and definition.get("additionalProperties") is False
            and isinstance(value, dict)
        ):
            known = definition.get("properties", {})
            regexes = [self._regexes[p] for p in definition.get("patternProperties", {})]
            return [
                Violation(f"{path}.{key}", "unknown parameter")
                for key in value
                if key not in known and not any(regex.search(key) for regex in regexes)
            ]
        if error.rule == "pattern":
            original = self._placeholders.get(definition.get("pattern", ""), "")
            message = f"must match pattern {original}"
        return [Violation(path, message)]
