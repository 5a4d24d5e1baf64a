//! JSON as the product reads and writes it: the event parser, the writer of output
//! records, and Python's `repr` for messages.

pub mod printable;
pub mod pyrepr;
pub mod write;
