//! Validation rules (SPEC §4): checks of untrusted rules, compilation, violations.
