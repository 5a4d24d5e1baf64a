"""What the checks learn about a schema, handed on to compilation."""

from __future__ import annotations

from dataclasses import dataclass, field

from eventgate.validation.formats import Re2Pattern

Pointer = tuple[str, ...]


def pointer_text(pointer: Pointer) -> str:
    """RFC 6901 text of a pointer given as its unescaped segments."""
    return "".join("/" + seg.replace("~", "~0").replace("/", "~1") for seg in pointer)


@dataclass
class SchemaFacts:
    """What compiling needs to know about a schema that passed :func:`check_schema`."""

    patterns: dict[str, Re2Pattern] = field(default_factory=dict)
    positions: set[Pointer] = field(default_factory=set)
    edges: dict[Pointer, list[tuple[Pointer, bool]]] = field(default_factory=dict)
    refs: list[tuple[str, Pointer]] = field(default_factory=list)
    ref_targets: dict[str, Pointer] = field(default_factory=dict)
