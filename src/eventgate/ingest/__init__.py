"""The ingest hot path: decode, validate, decide and emit, a poll at a time."""
