"""Validation of event params against untrusted rules (SPEC §4): checks, safe
compilation with fastjsonschema and RE2, every violation, an LRU of validators."""

from eventgate.validation.cache import ValidatorCache
from eventgate.validation.errors import RulesError
from eventgate.validation.rules import (
    CONTACT_FALLBACK_NAMES,
    CompiledRules,
    canonical_rules_hash,
    compile_rules,
)

__all__ = [
    "CONTACT_FALLBACK_NAMES",
    "CompiledRules",
    "RulesError",
    "ValidatorCache",
    "canonical_rules_hash",
    "compile_rules",
]
