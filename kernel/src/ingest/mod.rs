//! The ingest stages of one batch, in pipeline order.

pub mod event;
pub mod reasons;
