//! Why a record was rejected: the closed list of reason codes of SPEC §2, and violations.

/// Reason codes on `{prefix}rejected`; the list is closed (SPEC §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    InvalidUtf8,
    InvalidJson,
    NotObject,
    TooLarge,
    TooDeep,
    InvalidNumber,
    MissingKey,
    InvalidKey,
    InvalidContact,
    MissingContact,
    InvalidParams,
    DuplicateParam,
    InvalidEventId,
    InvalidOccurredAt,
    ValidationFailed,
    RegistrationLimit,
}

impl Reason {
    pub const ALL: [Reason; 16] = [
        Reason::InvalidUtf8,
        Reason::InvalidJson,
        Reason::NotObject,
        Reason::TooLarge,
        Reason::TooDeep,
        Reason::InvalidNumber,
        Reason::MissingKey,
        Reason::InvalidKey,
        Reason::InvalidContact,
        Reason::MissingContact,
        Reason::InvalidParams,
        Reason::DuplicateParam,
        Reason::InvalidEventId,
        Reason::InvalidOccurredAt,
        Reason::ValidationFailed,
        Reason::RegistrationLimit,
    ];

    /// The code as written on the stream.
    pub fn code(self) -> &'static str {
        match self {
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::InvalidJson => "invalid_json",
            Reason::NotObject => "not_object",
            Reason::TooLarge => "too_large",
            Reason::TooDeep => "too_deep",
            Reason::InvalidNumber => "invalid_number",
            Reason::MissingKey => "missing_key",
            Reason::InvalidKey => "invalid_key",
            Reason::InvalidContact => "invalid_contact",
            Reason::MissingContact => "missing_contact",
            Reason::InvalidParams => "invalid_params",
            Reason::DuplicateParam => "duplicate_param",
            Reason::InvalidEventId => "invalid_event_id",
            Reason::InvalidOccurredAt => "invalid_occurred_at",
            Reason::ValidationFailed => "validation_failed",
            Reason::RegistrationLimit => "registration_limit",
        }
    }
}

/// One problem with an event: `path` is a dotted path (`params.items[2].sku`, or `""` for
/// the whole record).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl Violation {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            path: path.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let codes: std::collections::HashSet<_> = Reason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Reason::ALL.len());
    }
}
