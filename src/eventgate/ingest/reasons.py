"""Why a record was rejected: the closed list of reason codes of SPEC §2, and violations."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RejectReason(StrEnum):
    """Reason codes on ``{prefix}rejected``; the list is closed (SPEC §2)."""

    INVALID_UTF8 = "invalid_utf8"
    INVALID_JSON = "invalid_json"
    NOT_OBJECT = "not_object"
    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    INVALID_NUMBER = "invalid_number"
    MISSING_KEY = "missing_key"
    INVALID_KEY = "invalid_key"
    INVALID_CONTACT = "invalid_contact"
    MISSING_CONTACT = "missing_contact"
    INVALID_PARAMS = "invalid_params"
    DUPLICATE_PARAM = "duplicate_param"
    INVALID_EVENT_ID = "invalid_event_id"
    INVALID_OCCURRED_AT = "invalid_occurred_at"
    VALIDATION_FAILED = "validation_failed"
    REGISTRATION_LIMIT = "registration_limit"


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem with an event: ``path`` is a JSON pointer-ish dotted path
    (``params.items[2].sku``, or ``""`` for the whole record)."""

    path: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}
