//! What one batch hands to Redis: counter increments, dedupe digests, history records.
