"""The detailed validator, stopped after :data:`MAX_ERRORS` errors.

fastjsonschema's ``fast_fail=False`` collects every error of an event, and each costs an
exception, a formatted message and a copy of the failing subschema: a 64 KiB event of
21,000 items can carry 100,000 of them (~1 s), though a dead letter lists at most 100
violations. This compiles the same generated code with one change — every
``errors.append(…)`` (and ``errors.extend(…)`` of a ``$ref`` target's errors) also
checks the count and raises :class:`TooManyErrors` (carrying the errors so far) at
:data:`MAX_ERRORS` — so the report of an invalid event costs at
most that many errors. Valid events never reach this validator (the fast one decides).

It uses fastjsonschema's code generator (``_factory``, what ``fastjsonschema.compile``
itself calls), the same way the rest of the package relies on the generated module's
``REGEX_PATTERNS``; ``tests/unit/test_validation_cost.py`` fails if a fastjsonschema
release changes what this edits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import fastjsonschema

MAX_ERRORS = 1000
"""Errors collected per event at most (a dead letter lists 100 violations)."""
_EDITS = {"errors.append(": "_append_error(errors, ", "errors.extend(": "_extend_errors(errors, "}


class TooManyErrors(Exception):  # not a fastjsonschema error: no ``except`` there stops it
    def __init__(self, errors: list[Any]) -> None:
        super().__init__(f"more than {MAX_ERRORS} validation errors")
        self.errors = errors


def _append_error(errors: list[Any], error: Any) -> None:
    errors.append(error)
    if len(errors) >= MAX_ERRORS:
        raise TooManyErrors(errors)


def _extend_errors(errors: list[Any], more: list[Any]) -> None:
    """What a caller does with the errors of a ``$ref`` target's function."""
    errors.extend(more)
    if len(errors) >= MAX_ERRORS:
        raise TooManyErrors(errors)


def compile_capped(
    definition: Any, handlers: Mapping[str, Callable[[str], Any]], formats: Mapping[str, Any]
) -> Callable[[Any], Any]:
    """Like ``fastjsonschema.compile(…, use_default=False, detailed_exceptions=True,
    fast_fail=False)``, with the error cap; raises what ``compile`` raises."""
    resolver, generator = fastjsonschema._factory(  # private: see the module docstring
        definition, handlers, formats, False, True, True, False
    )
    state = generator.global_state  # before the code: compile() takes them in this order
    code = generator.func_code
    for old, new in _EDITS.items():
        code = code.replace(old, new)
    state.update(_append_error=_append_error, _extend_errors=_extend_errors)
    exec(code, state)  # noqa: S102  (as fastjsonschema.compile does)
    function = state[resolver.get_scope_name()]
    return partial(function, custom_formats=formats)
