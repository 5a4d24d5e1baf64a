//! The records of one batch as the stages hand them on: the raw record, and what
//! decoding made of it (a structurally valid event, or a rejection).

use serde_json::{Map, Value};

use super::reasons::{Reason, Violation};

/// The params of an event: names in the order first seen (a repeated name keeps its first
/// place and takes its last value, as a Python dict built from the JSON does).
pub type Params = Map<String, Value>;

/// Where a batch's records come from: one partition of one topic.
#[derive(Clone, Debug)]
pub struct Source {
    pub topic: String,
    pub partition: i32,
}

/// One consumed Kafka record, copied out of the consumer's objects once per batch.
#[derive(Clone, Debug, Default)]
pub struct Record {
    pub offset: i64,
    /// Epoch milliseconds (Kafka's "no timestamp" is -1).
    pub timestamp_ms: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// The header `eventgate-replay-of` (the last one if repeated; UTF-8 with bad bytes
    /// replaced; an empty value counts as absent).
    pub replay_of: Option<String>,
}

/// A structurally valid ingest event (not yet validated against its type's rules).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub event_type_key: String,
    pub key_value: String,
    pub params: Params,
    pub event_id: String,
    pub explicit_id: bool,
    pub occurred_at_ms: i64,
    pub occurred_at: String,
    pub replay_of: Option<String>,
}

/// A record that is not a valid event, bound for `{prefix}rejected`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub reason: Reason,
    pub message: String,
    pub violations: Vec<Violation>,
    /// Set whenever the record is a JSON object whose key is well-formed, even when a
    /// later check rejects it (so per-type rejected counters see it).
    pub event_type_key: Option<String>,
}

/// What decoding made of one record.
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded {
    Event(Event),
    Rejected(Rejection),
}

impl Decoded {
    pub fn event_type_key(&self) -> Option<&str> {
        match self {
            Decoded::Event(e) => Some(&e.event_type_key),
            Decoded::Rejected(r) => r.event_type_key.as_deref(),
        }
    }

    pub fn event(&self) -> Option<&Event> {
        match self {
            Decoded::Event(e) => Some(e),
            Decoded::Rejected(_) => None,
        }
    }
}
