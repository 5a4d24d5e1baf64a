"""The one error of the validation package: rules that cannot be accepted."""

from __future__ import annotations


class RulesError(ValueError):
    """Validation rules refused (the API answers 422).

    ``message`` names the problem; ``path`` is a JSON pointer (RFC 6901) into the rules
    value where it was found (``""`` for the rules as a whole, ``/properties/sku/pattern``,
    ``/0/type`` for the simple form).
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{message} (at {path or '/'})")
        self.message = message
        self.path = path
